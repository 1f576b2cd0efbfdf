import Foundation
import GeoModel
import Storage
import XCTest
@testable import Daemon

/// Issue 14: `outputs` and `after_publish` settings, and the hook's argument vector and record.
final class AfterPublishHookTests: XCTestCase {
    private func load(_ text: String) throws -> DaemonConfig {
        let path = NSTemporaryDirectory() + "tiledrop-conf-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try DaemonConfig.load(path: path, rootOverride: nil)
    }

    func testOutputsAndHookSettings() throws {
        XCTAssertEqual(try load("").outputs, [.mbtiles])
        XCTAssertNil(try load("").afterPublish)
        XCTAssertEqual(try load("outputs = mbtiles, pmtiles\n").outputs, [.mbtiles, .pmtiles])
        XCTAssertEqual(try load("outputs = PMTiles\n").outputs, [.pmtiles])
        let c = try load("after_publish = /usr/local/bin/sync-to-bucket --bucket 'my maps' %f\nafter_publish_timeout = 20\n")
        XCTAssertEqual(c.afterPublish, ["/usr/local/bin/sync-to-bucket", "--bucket", "my maps", "%f"])
        XCTAssertEqual(c.afterPublishTimeout, 20)
        for bad in ["outputs = geojson\n", "outputs = ,\n", "after_publish = 'unclosed\n", "after_publish_timeout = soon\n"] {
            XCTAssertThrowsError(try load(bad), bad) { e in XCTAssertTrue("\(e)".contains(":1:"), "\(e)") }
        }
    }

    func testArgumentsSubstituteThePath() {
        let hook = AfterPublishHook(words: ["/bin/up", "--to=s3://b/%f", "%%f", "%x"], timeout: 5)
        XCTAssertEqual(hook.arguments(file: "/t/a.pmtiles"), ["/bin/up", "--to=s3://b//t/a.pmtiles", "%f", "%x"])
        XCTAssertEqual(AfterPublishHook(words: ["/bin/up"], timeout: 5).arguments(file: "/t/a.pmtiles"), ["/bin/up", "/t/a.pmtiles"], "path appended without %f")
    }

    func testRunRecordsStatusOutputAndTimeouts() throws {
        let ok = AfterPublishHook(words: ["/bin/sh", "-c", "echo uploaded \"$0\"; exit 3", "%f"], timeout: 10).run(file: "/t/a b.pmtiles")
        XCTAssertFalse(ok.succeeded)
        XCTAssertEqual(ok.record["exit_status"], 3)
        XCTAssertEqual(ok.record["output"], "uploaded /t/a b.pmtiles\n")
        XCTAssertEqual(ok.record["file"], "/t/a b.pmtiles")
        XCTAssertEqual(ok.summary, "exited with status 3")

        let slow = AfterPublishHook(words: ["/bin/sleep"], timeout: 0.3).run(file: "30")
        XCTAssertEqual(slow.record["timed_out"], true)
        XCTAssertEqual(slow.record["exit_status"], .null)
        XCTAssertLessThan(slow.record["seconds"]?.doubleValue ?? 99, 5)

        let missing = AfterPublishHook(words: ["/nonexistent/hook"], timeout: 1).run(file: "x")
        XCTAssertFalse(missing.succeeded)
        XCTAssertTrue(missing.summary.contains("could not be started"), missing.summary)
    }
}
