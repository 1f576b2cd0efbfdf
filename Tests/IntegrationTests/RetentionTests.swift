import Foundation
import Storage
import XCTest

/// Issue 8: finished records and archived files do not pile up forever (`retention_days`).
final class RetentionTests: XCTestCase {
    func testOldRecordsAndArchivedFilesArePrunedButSourcesAndFailedFilesStay() throws {
        // 0.00004 days is about 3.5 s; the daemon then prunes every second.
        let harness = try DaemonHarness(settleSeconds: 0.1, extraConfig: "retention_days = 0.00004")
        defer { harness.cleanUp() }
        try harness.start()
        let point = Data("{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}".utf8)
        try harness.drop(point, map: "m", name: "a.geojson")
        let database = { try StateDatabase(path: harness.root + "/state.db", readOnly: true, root: harness.root) }
        XCTAssertTrue(waitUntil(timeout: 20) { (try? database().ingests(map: "m").first?.state) == .completed }, harness.log)
        try harness.drop(point, map: "m", name: "again.geojson") // a duplicate: completed, nothing appended
        try harness.drop(Data("{broken".utf8), map: "m", name: "bad.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? database().ingests(map: "m").count) == 3 }, harness.log)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? database().ingests(map: "m").count) == 1 }, "pruned: \(harness.log)")
        let kept = try XCTUnwrap(try database().ingests(map: "m").first)
        XCTAssertEqual(kept.filename, "a.geojson", "the ingest whose features are in the source stays")
        XCTAssertTrue(waitUntil(timeout: 10) { ((try? FileManager.default.contentsOfDirectory(atPath: harness.root + "/archive/m")) ?? ["x"]).isEmpty }, harness.log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/failed/m/bad.geojson"), "failed/ is for people to look at")
        XCTAssertEqual(try database().sourceFiles(map: "m").count, 1)
        XCTAssertEqual(try database().jobs(tileset: "m").count, 1, "the latest job of a tileset stays")
        XCTAssertTrue(harness.log.contains("retention: removed"), harness.log)
        XCTAssertEqual(harness.stop(), 0)
    }
}
