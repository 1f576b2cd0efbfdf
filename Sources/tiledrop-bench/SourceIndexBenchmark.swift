import Daemon
import Foundation
import Formats
import GeoModel
import Storage

/// `tiledrop-bench source-index`: what the spatial index of a map's source costs and gives, on
/// the 144,563-city fixture.
///
/// 1. Conversion as an ingest does it (reader → stable ids → `GeoJSONSeqWriter`, fsync): the
///    ingest's own work, which the index adds to.
/// 2. Building the index of that source (`SourceIndex.add(sourceFile:)`, what the ingest worker
///    does after the commit): its time against step 1 is the ingest slowdown.
/// 3. Tile lookups through the index (`SourceIndex.features(in:touching:)`, the reader
///    `MapFeatureReader` uses) at several zooms, against one brute-force pass over the source
///    (what finding a tile's features costs without the index); each lookup's features are
///    checked against that pass.
/// 4. A changeset's id lookup (`entries(withKeys:)`) for 100 ids.
enum SourceIndexBenchmark {
    static func run(arguments: [String]) -> Int32 {
        var fixtures = ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"] ?? "../shared/fixtures"
        var queries = 200
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--fixtures" where i + 1 < arguments.count: fixtures = arguments[i + 1]; i += 1
            case "--queries" where i + 1 < arguments.count: queries = Int(arguments[i + 1]) ?? queries; i += 1
            default:
                print("usage: tiledrop-bench source-index [--fixtures DIR] [--queries N]")
                return 64
            }
            i += 1
        }
        guard let lines = IncrementalBenchmark.citiesLines(fixtures: fixtures) else { return 66 }
        let work = NSTemporaryDirectory() + "tiledrop-bench-index-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try IncrementalBenchmark.collection(lines).write(to: URL(fileURLWithPath: work + "/cities.geojson"))
            try measure(input: work + "/cities.geojson", work: work, queries: queries)
            return 0
        } catch {
            FileHandle.standardError.write(Data("source-index: \(error)\n".utf8))
            return 1
        }
    }

    private static func measure(input: String, work: String, queries: Int) throws {
        print("load average before: \(loadAverage())")
        let source = work + "/source.geojsonl"
        var started = now()
        let reader = try FeatureReaders.open(path: input, displayName: "cities.geojson", limits: .default)
        let writer = try GeoJSONSeqWriter(path: source)
        var next: Int64 = 1
        while var f = try reader.next() {
            f.sourceID = next
            f.id = .int(next)  // the fixture has no GeoJSON ids; a changeset needs them
            next += 1
            try writer.write(f)
        }
        try writer.finish(sync: true)
        let convert = now() - started
        print("features: \(next - 1), source \(writer.bytesWritten / 1_000_000) MB")
        print("convert (the ingest's own work): \(format(convert)) s")

        started = now()
        let index = try SourceIndex(path: work + "/.index.sqlite")
        let count = try index.add(sourceFile: source)
        let build = now() - started
        let indexBytes = (try? FileManager.default.attributesOfItem(atPath: work + "/.index.sqlite")[.size] as? Int) ?? 0
        print("index build: \(format(build)) s for \(count) features (\(indexBytes / 1_000_000) MB + WAL); ingest slowdown \(String(format: "%.0f", build / convert * 100)) %")

        // Brute force: one pass over every line, bbox test (what a lookup costs without the index).
        var all: [(box: BoundingBox, id: Int64)] = []
        started = now()
        let lineReader = try SourceLineReader(path: source)
        while let line = try lineReader.next() {
            if let f = line.feature, let b = f.geometry?.boundingBox, let id = f.sourceID { all.append((b, id)) }
        }
        let scan = now() - started
        print("brute-force pass over the source: \(format(scan)) s")

        var random = IncrementalBenchmark.SeededRandom(state: 2026)
        for z in [4, 8, 10, 14] {
            var times: [Double] = []
            var found = 0
            for q in 0..<queries {
                // Tiles around a random city, so most lookups find something.
                let c = all[Int(random.next() % UInt64(all.count))].box
                let n = Double(1 << z)
                let x = min(n - 1, max(0, floor((c.west + 180) / 360 * n)))
                let s = sin(max(-85, min(85, c.south)) * .pi / 180)
                let y = min(n - 1, max(0, floor((0.5 - log((1 + s) / (1 - s)) / (4 * .pi)) * n)))
                let box = MapFeatureReader.box(of: TileID(z: z, x: Int(x), y: Int(y)), buffer: 0.005)
                var ids: [Int64] = []
                let t = now()
                try index.features(in: [source], touching: box) { ids.append($0.sourceID ?? 0) }
                times.append(now() - t)
                found += ids.count
                if q < 20 {
                    let expected = all.filter { $0.box.intersects(box) }.map(\.id)
                    guard ids == expected else { throw BenchInputs.BenchError("z\(z) lookup \(q): \(ids.count) features, brute force \(expected.count)") }
                }
            }
            times.sort()
            print("z\(z) tile + 0.5 % buffer, \(queries) lookups: median \(format(times[times.count / 2] * 1000)) ms, p99 \(format(times[times.count * 99 / 100] * 1000)) ms, \(found / queries) features per tile")
        }
        let keys = (0..<100).map { _ in String(all[Int(random.next() % UInt64(all.count))].id) }
        started = now()
        let hits = try index.entries(withKeys: keys)
        print("a changeset's 100 ids looked up: \(format((now() - started) * 1000)) ms, \(hits.count) found")
        print("load average after: \(loadAverage())")
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func format(_ x: Double) -> String { String(format: "%.3f", x) }

    private static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }
}
