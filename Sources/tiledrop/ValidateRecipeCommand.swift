import Foundation
import GeoModel
import Tiling

/// `tiledrop validate-recipe FILE`: prints MTS's validateRecipe answer,
/// `{"valid": true}` or `{"valid": false, "errors": [...]}`; exit 0 when valid, 65 when not.
enum ValidateRecipeCommand {
    static let usage = "usage: tiledrop validate-recipe RECIPE.json"

    static func run(arguments: [String]) -> Int32 {
        guard arguments.count == 1 else { return fail("validate-recipe: \(usage)", code: ExitCode.usage) }
        guard let data = FileManager.default.contents(atPath: arguments[0]) else {
            return fail("validate-recipe: cannot read \(arguments[0]); check the path and permissions", code: ExitCode.noInput)
        }
        let errors: [String]
        do {
            errors = Recipe.validate(try JSONParser.parse([UInt8](data)))
        } catch {
            errors = ["recipe is not valid JSON: \(error)"]
        }
        if errors.isEmpty {
            print(JSONWriter.string(["valid": true]))
            return ExitCode.ok
        }
        print(JSONWriter.string(["valid": false, "errors": .array(errors.map { .string($0) })]))
        return ExitCode.dataError
    }
}
