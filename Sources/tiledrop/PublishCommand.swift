import Daemon
import Foundation
import GeoModel
import SystemSupport
import Tiling

/// `tiledrop publish RECIPE.json -o OUT.mbtiles|OUT.pmtiles [--json] [--name NAME]`: one-shot
/// tiling; the output's extension chooses the container (anything but `.pmtiles` is MBTiles).
///
/// Layer sources in the recipe are file paths (absolute or relative to the recipe file);
/// `tiledrop://tileset-source/<map>` sources resolve to `<root>/sources/<map>/` when `--root`
/// is given. Prints a summary, or with `--json` the MTS-shaped job report.
enum PublishCommand {
    static let usage = "usage: tiledrop " + CommandHelp.publish.synopsis

    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, .publish) else {
            return ExitCode.usage
        }
        guard args.positional.count == 1, let output = args.value("-o") ?? args.value("--output") else {
            return fail("publish: \(usage)", code: ExitCode.usage)
        }
        let recipePath = args.positional[0]
        let (name, root, json) = (args.value("--name"), args.value("--root"), args.has("--json"))
        let threads = args.value("--threads").flatMap { Int($0) }
        var memory = TilingMemory.defaultBudget
        if let m = args.value("--memory") {
            guard let n = DaemonConfig.byteCount(m), n >= Int64(TilingMemory.minimumBudget) else {
                return fail("publish: --memory must be a size of at least 32M, such as 512M or 2G, not '\(m)'", code: ExitCode.usage)
            }
            memory = Int(n)
        }
        let recipe: Recipe
        do {
            recipe = try Recipe(json: try JSONParser.parse(FileSystem().readFile(recipePath)))
        } catch {
            return fail("publish: \(recipePath): \(error)", code: ExitCode.dataError)
        }
        let directory = FileSystem.parent(of: recipePath)
        let start = Date()
        do {
            let report = try Publisher(name: name, threads: threads, memoryBudget: memory).publish(recipe: recipe, recipeDirectory: directory, resolveSource: { source in
                guard let root else {
                    throw TilingError.source(name: source, message: "tiledrop:// sources need --root DIR (the daemon's data root); or use a file path")
                }
                return try RootSources(root: root).source(for: source)
            }, outputPath: output)
            let m = report.memory
            let memoryLine = "memory: tiler peak \(m.peak / 1_000_000) MB of a \(m.budget / 1_000_000) MB budget, process peak RSS \((m.peakRSS ?? 0) / 1_000_000) MB"
                + (m.spilledBytes > 0 ? ", \(m.spilledBytes / 1_000_000) MB spilled" : "") + (m.maxBands > 1 ? ", up to \(m.maxBands) bands per zoom" : "")
            if json {
                print(JSONWriter.string(report.json))
                FileHandle.standardError.write(Data((memoryLine + "\n").utf8))
            } else {
                let seconds = Date().timeIntervalSince(start)
                print("wrote \(output): \(report.tileCount) tiles (\(report.uniqueTileCount) unique), \(report.featureCount) features, z\(report.metadata.minzoom)-\(report.metadata.maxzoom), \(String(format: "%.2f", seconds)) s")
                print(memoryLine)
                for w in report.warnings { print("warning: \(w)") }
            }
            return ExitCode.ok
        } catch {
            return fail("publish: \(error)", code: error is TilingError ? ExitCode.dataError : ExitCode.ioError)
        }
    }
}
