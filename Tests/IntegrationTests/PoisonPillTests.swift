import Foundation
import GeoModel
import Storage
import XCTest

/// Issue 8: work that keeps killing the daemon is set aside after 3 attempts, and the
/// processing limits hold inside one huge feature.
final class PoisonPillTests: XCTestCase {
    private func points(count: Int) -> Data {
        let features = (0..<count).map { i in
            "{\"type\":\"Feature\",\"properties\":{\"i\":\(i)},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(Double(i % 3600) * 0.1 - 180),\(Double(i % 1700) * 0.1 - 85)]}}"
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    private func ingest(_ harness: DaemonHarness, map: String) -> IngestRecord? {
        try? StateDatabase(path: harness.root + "/state.db", readOnly: true, root: harness.root).ingests(map: map).first
    }

    func testAnIngestInterruptedThreeTimesGoesToFailedWithTheReason() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points(count: 150_000), map: "poison", name: "big.geojson")
        for attempt in 1...3 {
            if attempt > 1 { try harness.start() }
            XCTAssertTrue(waitUntil(timeout: 30) {
                let r = self.ingest(harness, map: "poison")
                return r?.state == .processing && r?.attempts == attempt
            }, "attempt \(attempt): \(String(describing: ingest(harness, map: "poison")))\n\(harness.log)")
            harness.crash() // as if the file made the daemon crash
        }
        try harness.start()
        try harness.drop(points(count: 3), map: "fine", name: "small.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { self.ingest(harness, map: "fine")?.state == .completed }, harness.log)
        let record = try XCTUnwrap(ingest(harness, map: "poison"))
        XCTAssertEqual(record.state, .failed)
        XCTAssertEqual(record.attempts, 3)
        XCTAssertTrue(record.errors.first?.contains("interrupted 3 times") == true, "\(record.errors)")
        let report = try String(contentsOfFile: harness.root + "/failed/poison/big.geojson.error.json", encoding: .utf8)
        XCTAssertTrue(report.contains("interrupted 3 times"), report)
        XCTAssertEqual(harness.stop(), 0)
    }

    func testACleanShutdownDoesNotCountAsAnAttempt() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points(count: 150_000), map: "slow", name: "big.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { self.ingest(harness, map: "slow")?.state == .processing }, harness.log)
        XCTAssertEqual(harness.stop(), 0)
        XCTAssertEqual(ingest(harness, map: "slow")?.attempts, 0, "SIGTERM is not the file's fault")
        XCTAssertEqual(ingest(harness, map: "slow")?.state, .processing)
    }

    func testMaxProcessingSecondsHoldsInsideOneHugeFeature() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1, extraConfig: "max_processing_seconds = 1")
        defer { harness.cleanUp() }
        try harness.start()
        // One LineString of 3 million positions (~42 MB, under the 64 MiB feature limit; about
        // 30 s to convert in a debug build): the per-64-features check never runs.
        var text = Array("{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[".utf8)
        text.reserveCapacity(43_000_000)
        for i in 0..<3_000_000 {
            if i > 0 { text.append(0x2C) }
            text += Array("[\(i % 360 - 180).5,\(i % 170 - 85).25]".utf8)
        }
        text += Array("]}}".utf8)
        try harness.drop(Data(text), map: "huge", name: "line.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { self.ingest(harness, map: "huge")?.state == .processing }, harness.log)
        let started = Date()
        XCTAssertTrue(waitUntil(timeout: 30) { self.ingest(harness, map: "huge")?.state == .failed }, harness.log)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "stopped at the deadline, not after the feature")
        XCTAssertTrue(ingest(harness, map: "huge")?.errors.first?.contains("max_processing_seconds") == true)
        XCTAssertEqual(harness.stop(), 0)
    }

    func testAPublishJobInterruptedThreeTimesFailsWithTheReason() throws {
        let countries = DaemonHarness.fixtures + "/real/ne_110m_admin_0_countries.json"
        guard let world = FileManager.default.contents(atPath: countries) else {
            throw XCTSkip("fixture \(countries) not found (set TILEDROP_FIXTURES)")
        }
        // The default recipe at z9 takes tens of seconds in a debug build.
        let harness = try DaemonHarness(settleSeconds: 0.1, extraConfig: "default_maxzoom = 9")
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(world, map: "w", name: "world.geojson")
        for attempt in 1...3 {
            if attempt > 1 { try harness.start() }
            XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["jobs"]?["processing"]?.intValue == 1 }, harness.log)
            harness.crash() // as if the job made the daemon crash
        }
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["jobs"]?["failed"]?.intValue == 1 }, harness.log)
        let jobs = try StateDatabase(path: harness.root + "/state.db", readOnly: true).jobs(tileset: "w")
        XCTAssertEqual(jobs.count, 1)
        XCTAssertEqual(jobs.first?.attempts, 3)
        XCTAssertTrue(jobs.first?.errors.first?.contains("interrupted 3 times") == true, "\(jobs)")
        XCTAssertEqual((try harness.status())["jobs"]?["processing"]?.intValue, 0)
        XCTAssertEqual(harness.stop(), 0)
    }
}
