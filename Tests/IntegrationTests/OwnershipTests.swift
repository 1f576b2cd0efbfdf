import Foundation
import XCTest

/// Issue 8: configuration shared by reference, so SIGHUP reaches every component.
final class OwnershipTests: XCTestCase {
    func testSIGHUPChangesTheLogLevelOfTheIngestWorkerAtOnce() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1, extraConfig: "log_level = warning")
        defer { harness.cleanUp() }
        try harness.start()
        let point = Data("{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}".utf8)
        try harness.drop(point, map: "m", name: "first.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        XCTAssertFalse(harness.log.contains("claimed"), "info lines are below log_level = warning")
        let config = try String(contentsOfFile: harness.configPath, encoding: .utf8).replacingOccurrences(of: "log_level = warning", with: "log_level = info")
        try config.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        kill(try XCTUnwrap(harness.process?.processIdentifier), SIGHUP)
        XCTAssertTrue(waitUntil(timeout: 10) { harness.log.contains("reloaded configuration") }, harness.log)
        try harness.drop(point, map: "m", name: "second.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { harness.log.contains("claimed") && harness.log.contains("second.geojson") }, "the ingest worker logs at the new level:\n\(harness.log)")
        XCTAssertEqual(harness.stop(), 0)
    }
}
