import Foundation
import GeoModel
import XCTest

/// Issue 2's end-to-end path: drop a GeoJSON file, get an MBTiles tileset, ask the socket.
final class WalkingSkeletonTests: XCTestCase {
    /// The Natural Earth countries fixture, or a generated stand-in covering the same path.
    private func countriesFile() throws -> (data: Data, expected: Int, isFixture: Bool) {
        let path = DaemonHarness.fixtures + "/real/ne_110m_admin_0_countries.json"
        if let data = FileManager.default.contents(atPath: path) {
            return (data, 177, true)
        }
        print("fixture \(path) not found (set TILEDROP_FIXTURES); using a generated countries file instead")
        var features: [String] = []
        for i in 0..<24 {
            let w = -170.0 + Double(i) * 14, s = -60.0 + Double(i % 6) * 20
            features.append("""
            {"type":"Feature","properties":{"NAME":"Country \(i)"},"geometry":{"type":"Polygon","coordinates":[[[\(w),\(s)],[\(w + 10),\(s)],[\(w + 10),\(s + 10)],[\(w),\(s + 10)],[\(w),\(s)]]]}}
            """)
        }
        return (Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8), 24, false)
    }

    func testDroppedGeoJSONBecomesATilesetAndStatusAnswers() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        let (data, expected, isFixture) = try countriesFile()
        try harness.drop(data, map: "countries", name: "ne_110m_admin_0_countries.json")

        let tiles = harness.root + "/tiles/countries.mbtiles"
        XCTAssertTrue(waitUntil(timeout: 60) { FileManager.default.fileExists(atPath: tiles) }, "no tileset; log:\n\(harness.log)")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["jobs"]?["success"]?.intValue == 1 }, "job did not succeed; log:\n\(harness.log)")

        // The source is line-delimited GeoJSON with one feature per line.
        let sources = try FileManager.default.contentsOfDirectory(atPath: harness.root + "/sources/countries").filter { !$0.hasPrefix(".") } // the hidden .index.sqlite is the spatial index
        XCTAssertEqual(sources.count, 1)
        let lines = try String(contentsOfFile: harness.root + "/sources/countries/" + sources[0], encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, expected)
        // The original was archived.
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/archive/countries/ne_110m_admin_0_countries.json"))

        // The z0 tile holds every country (decoded by `tiledrop tile`).
        let tile = try harness.cli(["tile", tiles, "0/0/0"])
        XCTAssertEqual(tile.status, 0, tile.stderr)
        let geojson = try JSONParser.parse(Array(tile.stdout))
        let features = geojson["features"]?.arrayValue ?? []
        let names = Set(features.compactMap { $0["properties"]?["NAME"]?.stringValue })
        XCTAssertEqual(names.count, expected, "countries in the z0 tile")
        if isFixture {
            XCTAssertTrue(names.isSuperset(of: ["France", "Brazil", "Japan", "Australia", "Canada", "S. Sudan"]))
        }
        XCTAssertTrue(features.allSatisfy { ["Polygon", "MultiPolygon"].contains($0["geometry"]?["type"]?.stringValue ?? "") })

        // The status socket and the CLI agree.
        let status = try harness.status()
        XCTAssertEqual(status["ingests"]?["completed"]?.intValue, 1)
        XCTAssertEqual(status["ingests"]?["failed"]?.intValue, 0)
        XCTAssertEqual(status["maps"]?.arrayValue, [.string("countries")])
        XCTAssertNotNil(status["version"]?.stringValue)
        XCTAssertNotNil(status["uptime"]?.intValue)
        for state in ["upload", "processing", "completed", "failed", "canceled"] { XCTAssertNotNil(status["ingests"]?[state]?.intValue, state) }
        for stage in ["queued", "processing", "success", "failed"] { XCTAssertNotNil(status["jobs"]?[stage]?.intValue, stage) }
        let human = try harness.cli(["status", "--root", harness.root])
        XCTAssertTrue(String(decoding: human.stdout, as: UTF8.self).contains("1 completed"))

        let second = try harness.cli(["run", "--root", harness.root])
        XCTAssertEqual(second.status, 75, "a second daemon on the same root refuses to start")
        XCTAssertTrue(second.stderr.contains("already running"), second.stderr)

        XCTAssertEqual(harness.stop(), 0, "SIGTERM exits 0")
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/tiledrop.sock"), "socket removed on exit")
    }

    func testUnreadableFileEndsInFailedWithAReason() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(Data("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",".utf8), map: "broken", name: "truncated.geojson")
        let errorFile = harness.root + "/failed/broken/truncated.geojson.error.json"
        // The reason is written first, then the file moves beside it: wait for both.
        XCTAssertTrue(waitUntil(timeout: 30) {
            FileManager.default.fileExists(atPath: errorFile) && FileManager.default.fileExists(atPath: harness.root + "/failed/broken/truncated.geojson")
        }, "log:\n\(harness.log)")
        let report = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: errorFile))))
        XCTAssertEqual(report["state"]?.stringValue, "failed")
        let message = report["errors"]?.arrayValue?.first?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("truncated.geojson"), message)
        XCTAssertTrue(waitUntil(timeout: 10) { (try? harness.status())?["ingests"]?["failed"]?.intValue == 1 })
        XCTAssertEqual(harness.stop(), 0)
    }

    func testCommandLineBasics() throws {
        let version = try DaemonHarness.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(String(decoding: version.stdout, as: UTF8.self).hasPrefix("tiledrop "))
        let help = try DaemonHarness.run(["--help"])
        XCTAssertTrue(String(decoding: help.stdout, as: UTF8.self).contains("tiledrop run"))
        XCTAssertEqual(try DaemonHarness.run(["frobnicate"]).status, 64)
        let missing = try DaemonHarness.run(["status", "--socket", "/nonexistent/tiledrop.sock"])
        XCTAssertEqual(missing.status, 69)
        XCTAssertTrue(missing.stderr.contains("cannot reach the daemon"))
    }

    func testConvertWritesOneFeaturePerLine() throws {
        let dir = NSTemporaryDirectory() + "tiledrop-convert-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/in.geojson"
        try #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[1,2]}},{"type":"Feature","properties":{"a":2},"geometry":{"type":"Point","coordinates":[3,4]}}]}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        let r = try DaemonHarness.run(["convert", input])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(try JSONParser.parse(String(lines[1]))["properties"]?["a"], .int(2))
        let bad = try DaemonHarness.run(["convert", dir + "/missing.geojson"])
        XCTAssertEqual(bad.status, 66)
        XCTAssertTrue(bad.stderr.contains("missing.geojson"))
    }
}
