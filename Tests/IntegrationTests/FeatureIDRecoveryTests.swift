import Foundation
import GeoModel
import Daemon
import Storage
import XCTest

/// Stable ids and the spatial index with the real binary: kill -9 in the middle of ingests,
/// compaction, restarts, a lost and a damaged index — ids stay unique and increasing in
/// source order, and the index ends up describing exactly the committed sources.
final class FeatureIDRecoveryTests: XCTestCase {
    private func collection(file: Int, count: Int) -> Data {
        let features = (0..<count).map { n in
            #"{"type":"Feature","id":"\#(file)-\#(n)","properties":{"file":\#(file),"n":\#(n)},"geometry":{"type":"Point","coordinates":[\#(Double(n % 360) - 179.5),\#(Double(file % 160) - 80)]}}"#
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    /// Each committed source line of `map`: file name, offset, length, tiledrop_id, "file/n".
    private func lines(_ harness: DaemonHarness, map: String) throws -> [(file: String, offset: Int64, length: Int, id: Int64?, pair: String)] {
        let files = try StateDatabase(path: harness.root + "/state.db", readOnly: true, root: harness.root).sourceFiles(map: map)
        var out: [(String, Int64, Int, Int64?, String)] = []
        for path in files {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            var start = 0
            for (i, b) in bytes.enumerated() where b == 0x0A {
                let f = try JSONParser.parse(Array(bytes[start..<i]))
                let pair = "\(f["properties"]?["file"]?.intValue ?? -1)/\(f["properties"]?["n"]?.intValue ?? -1)"
                out.append((URL(fileURLWithPath: path).lastPathComponent, Int64(start), i - start, f["tiledrop_id"]?.intValue.map(Int64.init), pair))
                start = i + 1
            }
        }
        return out
    }

    /// The index rows of `map`, as "file offset length id", in source order, or nil when it cannot be read.
    private func indexRows(_ harness: DaemonHarness, map: String, files: [String]) -> [String]? {
        guard let index = try? SourceIndex(path: harness.root + "/sources/\(map)/.index.sqlite") else { return nil }
        var rows: [String] = []
        let everything = BoundingBox(west: -1000, south: -1000, east: 1000, north: 1000)
        for file in files {
            do {
                try index.entries(in: file, probes: SourceCell.probes(mercator: everything), touching: everything) { e in rows.append("\(file) \(e.offset) \(e.length) \(e.sourceID.map(String.init) ?? "-")"); return true }
            } catch { return nil }
        }
        return rows
    }

    private func assertConsistent(_ harness: DaemonHarness, map: String, features: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let all = try lines(harness, map: map)
        XCTAssertEqual(all.count, features, "every feature once", file: file, line: line)
        XCTAssertEqual(Set(all.map(\.pair)).count, all.count, "no duplicates", file: file, line: line)
        let ids = all.compactMap(\.id)
        XCTAssertEqual(ids.count, all.count, "every line has its id", file: file, line: line)
        XCTAssertEqual(ids, ids.sorted(), "ids increase in source order", file: file, line: line)
        XCTAssertEqual(Set(ids).count, ids.count, "ids are unique", file: file, line: line)
        let expected = all.map { "\($0.file) \($0.offset) \($0.length) \($0.id.map(String.init) ?? "-")" }
        var files: [String] = []
        for f in all.map(\.file) where files.last != f { files.append(f) }
        XCTAssertTrue(waitUntil(timeout: 60) { self.indexRows(harness, map: map, files: files) == expected },
                      "the index describes the sources: \(indexRows(harness, map: map, files: files)?.count ?? -1) rows for \(expected.count) lines; log:\n\(harness.log.suffix(3000))",
                      file: file, line: line)
    }

    private func settled(_ harness: DaemonHarness, completed: Int) -> Bool {
        guard let s = try? harness.status() else { return false }
        return s["ingests"]?["completed"]?.intValue == completed && s["ingests"]?["processing"]?.intValue == 0
            && s["jobs"]?["queued"]?.intValue == 0 && s["jobs"]?["processing"]?.intValue == 0
    }

    func testIdsAndIndexSurviveKillsCompactionRestartsAndALostIndex() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1, extraConfig: "max_source_files = 3\ndefault_maxzoom = 2")
        defer { harness.cleanUp() }
        let perFile = 2000
        var dropped = 0
        for round in 0..<3 {
            try harness.start()
            for _ in 0..<3 {
                try harness.drop(collection(file: dropped, count: perFile), map: "ids", name: "f\(dropped).geojson")
                dropped += 1
            }
            usleep(UInt32(150_000 + round * 100_000))
            harness.crash()
        }
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 90) { self.settled(harness, completed: dropped) }, "status: \(String(describing: try? harness.status())); log:\n\(harness.log.suffix(4000))")
        print("FeatureIDRecoveryTests: \(harness.log.components(separatedBy: "resuming").count - 1) ingests resumed after kill -9, "
              + "\(harness.log.components(separatedBy: "compacted").count - 1) compactions")
        try assertConsistent(harness, map: "ids", features: dropped * perFile)
        let before = try lines(harness, map: "ids").map(\.id)

        // Lost while stopped: rebuilt at start. Damaged while stopped: rebuilt too.
        XCTAssertEqual(harness.stop(), 0)
        let index = harness.root + "/sources/ids/.index.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
        try harness.start()
        try assertConsistent(harness, map: "ids", features: dropped * perFile)
        XCTAssertEqual(harness.stop(), 0)
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: index))
        try harness.start()
        try harness.drop(collection(file: dropped, count: perFile), map: "ids", name: "f\(dropped).geojson")
        dropped += 1
        XCTAssertTrue(waitUntil(timeout: 60) { self.settled(harness, completed: dropped) }, harness.log.suffix(3000).description)
        try assertConsistent(harness, map: "ids", features: dropped * perFile)
        XCTAssertEqual(Array(try lines(harness, map: "ids").map(\.id).prefix(before.count)), before, "ids are stable across restarts")
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/tiles/ids.mbtiles"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/quarantine/ids/.index.sqlite"), "the sweep leaves the index alone")
        XCTAssertEqual(harness.stop(), 0)
    }
}
