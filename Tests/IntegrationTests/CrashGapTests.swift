import Foundation
import GeoModel
import Storage
import XCTest

/// Issue 8 (h): the states a crash leaves between two steps, rebuilt by hand, then a restart.
final class CrashGapTests: XCTestCase {
    private let point = Data("{\"type\":\"Feature\",\"properties\":{\"n\":1},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}".utf8)

    private func names(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The reason is written before the file moves to `failed/`. A crash in between leaves the
    /// report alone in `failed/` and the file where it was; the retry must write over that report
    /// and move the file beside it, leaving neither an orphan report nor a file without reason.
    func testACrashBetweenReasonAndMoveLeavesNoOrphan() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(Data("{not json".utf8), map: "gap", name: "bad.geojson")
        try FileManager.default.createDirectory(atPath: harness.root + "/drop/gap", withIntermediateDirectories: true)
        try point.write(to: URL(fileURLWithPath: harness.root + "/drop/loose.geojson"))
        let failed = harness.root + "/failed/gap"
        XCTAssertTrue(waitUntil(timeout: 20) {
            self.names(failed) == ["bad.geojson", "bad.geojson.error.json"]
                && self.names(harness.root + "/failed").contains("loose.geojson")
        }, harness.log)
        XCTAssertEqual(harness.stop(), 0)

        // Rebuild "report written, file not yet moved" for both kinds of failure.
        let record = try XCTUnwrap(try StateDatabase(path: harness.root + "/state.db", readOnly: true, root: harness.root).ingests(map: "gap").first)
        XCTAssertEqual(record.state, .failed)
        XCTAssertEqual(rename(failed + "/bad.geojson", record.workPath), 0)
        XCTAssertEqual(rename(harness.root + "/failed/loose.geojson", harness.root + "/drop/loose.geojson"), 0)

        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 20) {
            self.names(failed) == ["bad.geojson", "bad.geojson.error.json"]
                && self.names(harness.root + "/failed").contains("loose.geojson")
                && !FileManager.default.fileExists(atPath: harness.root + "/drop/loose.geojson")
        }, "failed/gap: \(names(failed)), failed/: \(names(harness.root + "/failed"))\n\(harness.log)")
        XCTAssertEqual(names(harness.root + "/failed").filter { $0.hasPrefix("loose") }, ["loose.geojson", "loose.geojson.error.json"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: record.workPath))
        let report = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: failed + "/bad.geojson.error.json"))))
        XCTAssertEqual(report["ingest_id"]?.stringValue, record.id)
        XCTAssertEqual(harness.stop(), 0)
    }

    /// A recipe deleted while the daemon was stopped retires its tileset at the next start, as
    /// a removal seen live does; a map's default tileset stays.
    func testARecipeRemovedWhileStoppedIsRetiredAtStart() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try FileManager.default.createDirectory(atPath: harness.root + "/recipes", withIntermediateDirectories: true)
        try #"{"version": 1, "layers": {"pts": {"source": "tiledrop://tileset-source/base", "minzoom": 0, "maxzoom": 2}}}"#
            .write(toFile: harness.root + "/recipes/extra.json", atomically: true, encoding: .utf8)
        try harness.start()
        try harness.drop(point, map: "base", name: "p.geojson")
        try harness.drop(point, map: "other", name: "p.geojson")
        let tiles = harness.root + "/tiles"
        XCTAssertTrue(waitUntil(timeout: 60) { self.names(tiles).contains("extra.mbtiles") && self.names(tiles).contains("other.mbtiles") }, harness.log)
        XCTAssertEqual(harness.stop(), 0)

        try FileManager.default.removeItem(atPath: harness.root + "/recipes/extra.json")
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 30) { !self.names(tiles).contains("extra.mbtiles") }, harness.log)
        XCTAssertEqual(names(harness.root + "/archive/tiles"), ["extra.mbtiles"])
        XCTAssertTrue(harness.log.contains("recipes/extra.json was removed while tiledrop was stopped"), harness.log)
        // The map `base` lost its last recipe: it gets its default tileset back; `other` keeps its own.
        XCTAssertTrue(waitUntil(timeout: 60) { self.names(tiles).contains("base.mbtiles") }, harness.log)
        XCTAssertTrue(names(tiles).contains("other.mbtiles"))
        XCTAssertEqual(harness.stop(), 0)
    }
}
