import Foundation
import GeoModel
import Storage
import XCTest

/// Issue 8 (a, b): one writer per `tiles/<tileset>`, and a shutdown that stops a running publish.
final class PublishShutdownTests: XCTestCase {
    /// 400 squares of 1–4° around (0, 0): a publish to z10 takes seconds (about 3 s on a quiet
    /// machine, more under load), long enough to act while it runs.
    static func squares() -> Data {
        var state: UInt64 = 1
        func next() -> Double { // a fixed LCG: the same data every run
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let features = (0..<400).map { i -> String in
            let (x, y, w) = (next() * 40 - 20, next() * 40 - 20, 1 + next() * 3)
            return "{\"type\":\"Feature\",\"properties\":{\"n\":\(i)},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[\(x),\(y)],[\(x + w),\(y)],[\(x + w),\(y + w)],[\(x),\(y + w)],[\(x),\(y)]]]}}"
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    private func writeRecipe(_ harness: DaemonHarness, _ tileset: String, maxzoom: Int) throws {
        let folder = harness.root + "/recipes"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "{\"version\": 1, \"layers\": {\"s\": {\"source\": \"tiledrop://tileset-source/\(tileset)\", \"minzoom\": 0, \"maxzoom\": \(maxzoom)}}}"
            .write(toFile: folder + "/." + tileset + ".tmp", atomically: false, encoding: .utf8)
        XCTAssertEqual(rename(folder + "/." + tileset + ".tmp", folder + "/" + tileset + ".json"), 0)
    }

    private func jobs(_ harness: DaemonHarness, _ tileset: String) throws -> [PublishJobRecord] {
        try StateDatabase(path: harness.root + "/state.db", readOnly: true, root: harness.root).jobs(tileset: tileset)
    }

    /// The tileset of the publish job running now, from the status.
    private func runningJob(_ harness: DaemonHarness) -> String? {
        (try? harness.status())?["active"]?["job"]?["tileset"]?.stringValue
    }

    /// (b) SIGTERM during a long publish: the tiler stops at its next check, the process exits
    /// within seconds, the previous tileset stays, and the job (not counted as an attempt)
    /// completes after the restart.
    func testSIGTERMDuringALongPublishExitsQuicklyAndTheJobCompletesAfterRestart() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try writeRecipe(harness, "slow", maxzoom: 2)
        try harness.start()
        try harness.drop(PublishShutdownTests.squares(), map: "slow", name: "squares.geojson")
        let tileset = harness.root + "/tiles/slow.mbtiles"
        XCTAssertTrue(waitUntil(timeout: 60) { (try? self.jobs(harness, "slow").first?.stage) == .success }, harness.log)
        let previous = try Data(contentsOf: URL(fileURLWithPath: tileset))

        try writeRecipe(harness, "slow", maxzoom: 10)
        XCTAssertTrue(waitUntil(timeout: 60) { self.runningJob(harness) == "slow" }, harness.log)
        let job = try XCTUnwrap(try jobs(harness, "slow").first { $0.stage == .processing })
        let signalled = Date()
        XCTAssertEqual(harness.stop(), 0)
        let seconds = Date().timeIntervalSince(signalled)
        print("PublishShutdownTests: exited \(String(format: "%.2f", seconds)) s after SIGTERM during a publish")
        XCTAssertLessThan(seconds, 5, "exit took \(seconds) s\n\(harness.log)")
        XCTAssertTrue(harness.log.contains("publish job \(job.id) stopped by shutdown"), harness.log)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tileset)), previous, "the previous tileset stays in place")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.root + "/tiles").filter { $0.hasPrefix(".") }, [])
        let requeued = try XCTUnwrap(try jobs(harness, "slow").first { $0.id == job.id })
        XCTAssertEqual(requeued.stage, .queued)
        XCTAssertEqual(requeued.attempts, 0, "a shutdown is not the job's fault")

        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 300) { (try? self.jobs(harness, "slow").first { $0.id == job.id }?.stage) == .success }, harness.log)
        XCTAssertEqual(try jobs(harness, "slow").first { $0.id == job.id }?.attempts, 1)
        let metadata = try MBTilesReader(path: tileset).metadata()
        XCTAssertEqual(metadata["maxzoom"], "10")
        XCTAssertEqual(harness.stop(), 0)
    }

    /// (a) A container dropped for a tileset while a recipe publish writes that tileset waits
    /// for the publish, then installs: both finish, and the later one (the container) is in place.
    func testAContainerInstallWaitsForAPublishOfTheSameTileset() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        // The container: a one-point tileset made with `tiledrop publish`.
        let work = harness.root + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try Data("{\"type\":\"Feature\",\"properties\":{\"c\":1},\"geometry\":{\"type\":\"Point\",\"coordinates\":[5,5]}}".utf8)
            .write(to: URL(fileURLWithPath: work + "/p.geojson"))
        try #"{"version":1,"layers":{"c":{"source":"p.geojson","minzoom":0,"maxzoom":2}}}"#.write(toFile: work + "/c.json", atomically: true, encoding: .utf8)
        let made = try DaemonHarness.run(["publish", work + "/c.json", "-o", work + "/race.mbtiles"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let container = try Data(contentsOf: URL(fileURLWithPath: work + "/race.mbtiles"))

        try writeRecipe(harness, "race", maxzoom: 10)
        try harness.start()
        try harness.drop(PublishShutdownTests.squares(), map: "race", name: "squares.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { self.runningJob(harness) == "race" }, harness.log)
        try harness.drop(container, map: "race", name: "race.mbtiles")
        XCTAssertTrue(waitUntil(timeout: 300) {
            harness.log.contains("installed tileset container race.mbtiles")
        }, harness.log)
        XCTAssertTrue(harness.log.contains("the container install waits for it to finish"), harness.log)
        // The job is recorded after the publish lets go of the tileset, so the install can
        // finish first: wait for the record instead of assuming it.
        XCTAssertTrue(waitUntil(timeout: 60) { (try? self.jobs(harness, "race").first?.stage) == .success }, harness.log)
        let log = harness.log
        let published = try XCTUnwrap(log.range(of: "tileset race: published"))
        let installed = try XCTUnwrap(log.range(of: "installed tileset container race.mbtiles"))
        XCTAssertLessThan(published.lowerBound, installed.lowerBound, "the install waited for the publish")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: harness.root + "/tiles/race.mbtiles")), container, "the later writer's result is in place")
        XCTAssertEqual(harness.stop(), 0)
    }
}
