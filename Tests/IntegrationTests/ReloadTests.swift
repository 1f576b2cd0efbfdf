import Foundation
import GeoModel
import Storage
import XCTest

/// Issue 8 (c): SIGHUP applies every reloadable setting to the running daemon, names the ones
/// that need a restart, and refuses a broken file as a whole.
final class ReloadTests: XCTestCase {
    private func point(_ n: Int) -> String {
        "{\"type\":\"Feature\",\"properties\":{\"n\":\(n)},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(n % 90),2]}}"
    }

    private func writeConfig(_ harness: DaemonHarness, _ extra: String) throws {
        // background_nice and background_scheduling as `DaemonHarness` sets them, so only the
        // test's own changes are reported.
        try "settle_seconds = 0.1\nscan_interval_seconds = 2\nlog_level = debug\nbackground_nice = 0\nbackground_scheduling = nice\n\(extra)\n"
            .write(toFile: harness.configPath, atomically: true, encoding: .utf8)
    }

    /// Sends SIGHUP and waits for the reload's log line (the `count`-th occurrence of `line`).
    private func reload(_ harness: DaemonHarness, expecting line: String, count: Int = 1) {
        kill(harness.process!.processIdentifier, SIGHUP)
        XCTAssertTrue(waitUntil(timeout: 20) { harness.log.components(separatedBy: line).count - 1 >= count }, harness.log)
    }

    private func failedReason(_ harness: DaemonHarness, map: String, name: String) -> String? {
        let path = harness.root + "/failed/\(map)/\(name).error.json"
        guard let data = FileManager.default.contents(atPath: path), let report = try? JSONParser.parse(Array(data)) else { return nil }
        return report["errors"]?.arrayValue?.first?["message"]?.stringValue
    }

    func testSIGHUPAppliesReloadableSettingsAndRefusesABrokenFile() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        let big = Data("{\"type\":\"FeatureCollection\",\"features\":[\((0..<10).map(point).joined(separator: ","))]}".utf8)
        XCTAssertGreaterThan(big.count, 500)

        try writeConfig(harness, "default_maxzoom = 3\nmax_file_size = 500\ncors_origin = https://maps.example.org")
        reload(harness, expecting: "reloaded configuration from")
        let log = harness.log
        XCTAssertTrue(log.contains("max_file_size 20000000000 → 500"), log)
        XCTAssertTrue(log.contains("default_maxzoom 5 → 3"), log)
        XCTAssertTrue(log.contains("reload: cors_origin changed in \(harness.configPath) but take effect only after a restart"), log)

        // The ingest worker applies the new limit, the publish queue the new default maxzoom.
        try harness.drop(big, map: "limits", name: "big.geojson")
        try harness.drop(Data(point(1).utf8), map: "small", name: "one.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) {
            self.failedReason(harness, map: "limits", name: "big.geojson") != nil
                && FileManager.default.fileExists(atPath: harness.root + "/tiles/small.mbtiles")
        }, harness.log)
        XCTAssertEqual(failedReason(harness, map: "limits", name: "big.geojson"),
                       "big.geojson is \(big.count) bytes, more than max_file_size (500); split the file or raise max_file_size")
        XCTAssertEqual(try MBTilesReader(path: harness.root + "/tiles/small.mbtiles").metadata()["maxzoom"], "3")

        // A broken file is refused as a whole: the limit of the last good reload stays.
        try writeConfig(harness, "max_file_size = lots")
        reload(harness, expecting: "reload refused, the running configuration is unchanged")
        XCTAssertTrue(harness.log.contains("max_file_size must be a size such as 500M or 20G, not 'lots'"), harness.log)
        try harness.drop(big, map: "limits", name: "again.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { self.failedReason(harness, map: "limits", name: "again.geojson") != nil }, harness.log)
        XCTAssertTrue(failedReason(harness, map: "limits", name: "again.geojson")?.contains("more than max_file_size (500)") == true)
        XCTAssertEqual(harness.stop(), 0)
    }
}
