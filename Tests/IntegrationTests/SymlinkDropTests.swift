import Foundation
import GeoModel
import XCTest

/// Issue 8 (f): the daemon never follows a symbolic link dropped into `drop/`; the CLI follows
/// one the user names.
final class SymlinkDropTests: XCTestCase {
    func testDroppedSymlinksGoToFailedAndTheirTargetsAreUntouched() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        let outside = NSTemporaryDirectory() + "tiledrop-outside-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let secret = #"{"type":"Feature","properties":{"secret":"outside the root"},"geometry":{"type":"Point","coordinates":[1,2]}}"#
        let passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        try secret.write(toFile: outside + "/secret.geojson", atomically: true, encoding: .utf8)
        try passwd.write(toFile: outside + "/passwd", atomically: true, encoding: .utf8)
        try harness.start()

        let drop = harness.root + "/drop/links"
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        XCTAssertEqual(symlink(outside + "/secret.geojson", drop + "/secret.geojson"), 0)
        XCTAssertEqual(symlink(outside + "/passwd", drop + "/passwd.geojson"), 0)
        try harness.drop(Data(#"{"type":"Feature","properties":{"ok":true},"geometry":{"type":"Point","coordinates":[3,4]}}"#.utf8), map: "links", name: "good.geojson")

        let failed = harness.root + "/failed/links/"
        XCTAssertTrue(waitUntil(timeout: 30) {
            ["secret.geojson", "passwd.geojson"].allSatisfy { FileManager.default.fileExists(atPath: failed + $0 + ".error.json") }
                && (try? harness.status())?["ingests"]?["completed"]?.intValue == 1
        }, harness.log)
        for name in ["secret.geojson", "passwd.geojson"] {
            let report = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: failed + name + ".error.json"))))
            XCTAssertEqual(report["errors"]?.arrayValue?.first?["message"]?.stringValue, "\(name) is a symbolic link; symlinks are not followed; copy the file instead")
            // The link itself was moved, not what it points at.
            XCTAssertNotNil(try? FileManager.default.destinationOfSymbolicLink(atPath: failed + name), name)
        }
        XCTAssertEqual(try String(contentsOfFile: outside + "/secret.geojson", encoding: .utf8), secret)
        XCTAssertEqual(try String(contentsOfFile: outside + "/passwd", encoding: .utf8), passwd)
        let sources = try FileManager.default.contentsOfDirectory(atPath: harness.root + "/sources/links").filter { !$0.hasPrefix(".") }
        let text = try sources.map { try String(contentsOfFile: harness.root + "/sources/links/" + $0, encoding: .utf8) }.joined()
        XCTAssertFalse(text.contains("outside the root") || text.contains("root:x:0"), text)
        XCTAssertTrue(text.contains("\"ok\":true"), text)
        XCTAssertEqual(harness.stop(), 0)

        // The command line follows a link the user names explicitly.
        let link = harness.root + "/by-hand.geojson"
        XCTAssertEqual(symlink(outside + "/secret.geojson", link), 0)
        let converted = try DaemonHarness.run(["convert", link])
        XCTAssertEqual(converted.status, 0, converted.stderr)
        XCTAssertTrue(String(decoding: converted.stdout, as: UTF8.self).contains("outside the root"))
    }
}
