import Daemon
import Foundation
import GeoModel
import Tiling

/// `tiledrop publish RECIPE.json -o OUT.mbtiles [--json] [--name NAME]`: one-shot tiling.
///
/// Layer sources in the recipe are file paths (absolute or relative to the recipe file);
/// `tiledrop://tileset-source/<map>` sources resolve to `<root>/sources/<map>/` when `--root`
/// is given. Prints a summary, or with `--json` the MTS-shaped job report.
enum PublishCommand {
    static let usage = "usage: tiledrop publish RECIPE.json -o OUT.mbtiles [--json] [--name NAME] [--root DIR] [--threads N]"

    static func run(arguments: [String]) -> Int32 {
        var recipePath: String?, output: String?, name: String?, root: String?, threads: Int?
        var json = false
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            func value() -> String? {
                i += 1
                return i < arguments.count ? arguments[i] : nil
            }
            switch a {
            case "-o", "--output": output = value()
            case "--json": json = true
            case "--name": name = value()
            case "--root": root = value()
            case "--threads": threads = value().flatMap { Int($0) }
            case "-h", "--help":
                print(usage)
                return ExitCode.ok
            default:
                if a.hasPrefix("-") || recipePath != nil { return CommandLine.fail("publish: unexpected argument \"\(a)\"; \(usage)", code: ExitCode.usage) }
                recipePath = a
            }
            i += 1
        }
        guard let recipePath, let output else { return CommandLine.fail("publish: \(usage)", code: ExitCode.usage) }
        let recipe: Recipe
        do {
            recipe = try Recipe(json: try CommandLine.readJSON(path: recipePath))
        } catch {
            return CommandLine.fail("publish: \(recipePath): \(error)", code: ExitCode.dataError)
        }
        let directory = recipePath.contains("/") ? String(recipePath[..<recipePath.lastIndex(of: "/")!]) : "."
        let start = Date()
        do {
            let report = try Publisher(name: name, threads: threads).publish(recipe: recipe, recipeDirectory: directory, resolveSource: { source in
                let prefix = "tiledrop://tileset-source/"
                guard source.hasPrefix(prefix), let root else {
                    throw TilingError.source(name: source, message: "tiledrop:// sources need --root DIR (the daemon's data root); or use a file path")
                }
                let dir = "\(root)/sources/\(source.dropFirst(prefix.count))"
                let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
                guard !files.isEmpty else { throw TilingError.source(name: source, message: "no source files in \(dir)") }
                return FileFeatureSource.sequence(files.map { "\(dir)/\($0)" })
            }, outputPath: output)
            if json {
                print(JSONWriter.string(report.json))
            } else {
                let seconds = Date().timeIntervalSince(start)
                print("wrote \(output): \(report.tileCount) tiles (\(report.uniqueTileCount) unique), \(report.featureCount) features, z\(report.metadata.minzoom)-\(report.metadata.maxzoom), \(String(format: "%.2f", seconds)) s")
                for w in report.warnings { print("warning: \(w)") }
            }
            return ExitCode.ok
        } catch {
            return CommandLine.fail("publish: \(error)", code: error is TilingError ? ExitCode.dataError : ExitCode.ioError)
        }
    }
}

extension CommandLine {
    /// Prints one line to stderr and returns the exit code.
    static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data((message.replacingOccurrences(of: "\n", with: " ") + "\n").utf8))
        return code
    }

    static func readJSON(path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        return try JSONParser.parse([UInt8](data))
    }
}
