import Foundation
import GeoModel
import Storage
import Tiling

/// `tiledrop-bench pmtiles [--fixtures DIR] [--runs N]`: what writing PMTiles beside the
/// MBTiles adds to a publish, and how the two files' sizes compare (issue 14: ≤ 15 %, ≤ size).
///
/// For each case (Natural Earth 50m countries + rivers z0–8, the GeoNames cities z0–12) the
/// same recipe is published N times (default 3, alternating) into an MBTiles alone and into an
/// MBTiles plus a PMTiles from the same tiler run, each in a fresh child process (wall and
/// CPU seconds from `wait4`). Prints the medians, the overhead, and the file sizes.
enum PMTilesBenchmark {
    static func run(arguments: [String]) -> Int32 {
        var fixtures = ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"] ?? "../shared/fixtures"
        var runs = 3
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--fixtures" where i + 1 < arguments.count: fixtures = arguments[i + 1]; i += 1
            case "--runs" where i + 1 < arguments.count: runs = max(1, Int(arguments[i + 1]) ?? 3); i += 1
            default:
                FileHandle.standardError.write(Data("usage: tiledrop-bench pmtiles [--fixtures DIR] [--runs N]\n".utf8))
                return 64
            }
            i += 1
        }
        let work = NSTemporaryDirectory() + "tiledrop-bench-pmtiles-\(getpid())"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let real = fixtures + "/real"
        guard let gz = FileManager.default.contents(atPath: real + "/cities1000.geojson.gz"),
              let cities = try? Gzip.decompress([UInt8](gz), limit: 1 << 30),
              FileManager.default.createFile(atPath: work + "/cities.geojson", contents: Data(cities)) else {
            FileHandle.standardError.write(Data("pmtiles: fixtures not found under \(real); pass --fixtures DIR or set TILEDROP_FIXTURES\n".utf8))
            return 66
        }
        let cases: [(name: String, recipe: JSONValue)] = [
            ("NE 50m countries + rivers z0-8", ["version": 1, "layers": [
                "countries": ["source": .string(real + "/ne_50m_admin_0_countries.json"), "minzoom": 0, "maxzoom": 8],
                "rivers": ["source": .string(real + "/ne_50m_rivers_lake_centerlines.json"), "minzoom": 0, "maxzoom": 8]]]),
            ("cities1000 (144,563 points) z0-12", ["version": 1, "layers": [
                "cities": ["source": .string(work + "/cities.geojson"), "minzoom": 0, "maxzoom": 12]]]),
        ]
        print("tiledrop-bench pmtiles: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores, \(runs) runs each, medians")
        print(TilesBenchmark.pad("case", 36) + TilesBenchmark.pad("outputs", 20) + TilesBenchmark.pad("seconds", 10) + TilesBenchmark.pad("CPU s", 8)
              + TilesBenchmark.pad("tiles", 9) + "file sizes")
        var failed = false
        for (n, c) in cases.enumerated() {
            let recipe = "\(work)/case\(n).json"
            _ = FileManager.default.createFile(atPath: recipe, contents: Data(JSONWriter.string(c.recipe).utf8))
            let mb = "\(work)/case\(n).mbtiles", both = "\(work)/case\(n)-both.mbtiles", pm = "\(work)/case\(n)-both.pmtiles"
            var alone: [TilesBenchmark.Measurement] = [], paired: [TilesBenchmark.Measurement] = []
            for _ in 0..<runs {
                alone.append(TilesBenchmark.measure([TilesBenchmark.selfPath(), "tiles-child", recipe, mb], output: mb))
                paired.append(TilesBenchmark.measure([TilesBenchmark.selfPath(), "tiles-child", recipe, both, pm], output: both))
            }
            failed = failed || (alone + paired).contains { $0.status != 0 }
            let a = median(alone), b = median(paired)
            let size = { (p: String) in (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }
            print(TilesBenchmark.pad(c.name, 36) + TilesBenchmark.pad("mbtiles", 20) + TilesBenchmark.pad(String(format: "%.2f", a.seconds), 10)
                  + TilesBenchmark.pad(String(format: "%.2f", a.cpuSeconds), 8) + TilesBenchmark.pad(String(a.tiles), 9)
                  + String(format: "MBTiles %.2f MB", Double(size(mb)) / 1e6))
            print(TilesBenchmark.pad("", 36) + TilesBenchmark.pad("mbtiles + pmtiles", 20) + TilesBenchmark.pad(String(format: "%.2f", b.seconds), 10)
                  + TilesBenchmark.pad(String(format: "%.2f", b.cpuSeconds), 8) + TilesBenchmark.pad(String(b.tiles), 9)
                  + String(format: "PMTiles %.2f MB (%.0f %% of the MBTiles)", Double(size(pm)) / 1e6, 100 * Double(size(pm)) / Double(max(1, size(mb)))))
            print(TilesBenchmark.pad("", 36) + String(format: "PMTiles adds %+.1f %% wall, %+.1f %% CPU to the publish",
                                                      100 * (b.seconds / max(a.seconds, 1e-9) - 1), 100 * (b.cpuSeconds / max(a.cpuSeconds, 1e-9) - 1)))
        }
        return failed ? 70 : 0
    }

    /// The run with the median wall time.
    private static func median(_ ms: [TilesBenchmark.Measurement]) -> TilesBenchmark.Measurement {
        let sorted = ms.sorted { $0.seconds < $1.seconds }
        var m = sorted[sorted.count / 2]
        m.cpuSeconds = ms.map(\.cpuSeconds).sorted()[ms.count / 2]
        return m
    }
}
