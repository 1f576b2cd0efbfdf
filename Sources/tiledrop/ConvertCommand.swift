import Formats
import GeoModel

/// `tiledrop convert IN [-o OUT]`: one file to line-delimited GeoJSON (stdout by default).
enum ConvertCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, .convert) else { return ExitCode.usage }
        guard args.positional.count == 1 else {
            printError("tiledrop convert: expected exactly one input file; usage: tiledrop convert IN [-o OUT]")
            return ExitCode.usage
        }
        let input = args.positional[0]
        let output = args.value("-o") ?? args.value("--output")
        let reader: any FeatureReader
        do {
            var limits = ReaderLimits.default
            limits.followSymlinks = true // a path the user named: a symlink is theirs to give
            reader = try FeatureReaders.open(path: input, limits: limits)
        } catch {
            printError("tiledrop convert: \(error)")
            if case .io = error { return ExitCode.noInput }
            return ExitCode.dataError
        }
        let writer: GeoJSONSeqWriter
        do {
            writer = try output.map { path throws(FormatError) in try GeoJSONSeqWriter(path: path) } ?? GeoJSONSeqWriter(fileDescriptor: 1, name: "stdout")
        } catch {
            printError("tiledrop convert: \(error)")
            return ExitCode.cantCreate
        }
        do {
            while let feature = try reader.next() { try writer.write(feature) }
            try writer.finish(sync: output != nil)
        } catch {
            printError("tiledrop convert: \(error)")
            if case .io = error { return ExitCode.ioError }
            return ExitCode.dataError
        }
        let warnings = reader.warnings
        printError("tiledrop convert: \(writer.featureCount) features from \(input) (\(reader.format.rawValue)) to \(output ?? "stdout"); \(warnings.count) warnings")
        for w in warnings.prefix(20) { printError("  warning: \(w.message)") }
        if warnings.count > 20 { printError("  … and \(warnings.count - 20) more warnings") }
        return ExitCode.ok
    }
}
