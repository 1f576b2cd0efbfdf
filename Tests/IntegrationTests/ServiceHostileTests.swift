import Foundation
import GeoModel
import SystemSupport
import XCTest

/// Hostile requests to the service endpoints of the real daemon: each gets a clear 4xx in its
/// service's error shape, and nothing is left behind (no staged file, no new map folder, no
/// ingest row, no temporary body file).
final class ServiceHostileTests: XCTestCase {
    private var harness: DaemonHarness!

    override func setUpWithError() throws {
        harness = try DaemonHarness(extraConfig: "owner = alice\nmax_file_size = 4K")
        try harness.start()
    }

    override func tearDownWithError() throws {
        harness?.cleanUp()
    }

    /// Sends `head` (+ `body`) over the Unix socket (as the local admin); returns status, headers, JSON.
    private func send(_ method: String, _ target: String, headers: [String] = [], body: [UInt8] = []) throws -> (Int, String, JSONValue) {
        let socket = try UnixSocket.connect(path: harness.root + "/tiledrop.sock")
        defer { socket.close() }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        for h in headers { head += h + "\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        try socket.sendAll(Array(head.utf8) + body)
        var bytes: [UInt8] = []
        while let chunk = try? socket.receive(), !chunk.isEmpty { bytes += chunk }
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let status = Int(parts[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        let json = (try? JSONParser.parse(parts.dropFirst().joined(separator: "\r\n\r\n"))) ?? .null
        return (status, parts[0], json)
    }

    private func assertNothingLeftBehind(map: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fm = FileManager.default
        XCTAssertFalse(fm.fileExists(atPath: harness.root + "/drop/" + map), "no map folder for \(map)", file: file, line: line)
        let temporary = (try? fm.contentsOfDirectory(atPath: harness.root + "/tmp")) ?? []
        XCTAssertEqual(temporary, [], "no request body left in tmp/", file: file, line: line)
        let (_, _, ingests) = try send("GET", "/v1/ingests")
        XCTAssertEqual(ingests.arrayValue?.count, 0, "no ingest recorded", file: file, line: line)
    }

    func testMTSRefusesBadUploadsAndIdentifiers() throws {
        let multipart = "Content-Type: multipart/form-data; boundary=B"
        // Truncated multipart: no closing boundary.
        var (status, _, body) = try send("POST", "/tilesets/v1/sources/alice/pts", headers: [multipart],
                                         body: Array("--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n{\"type\":".utf8))
        XCTAssertEqual(status, 400)
        XCTAssertTrue(body["message"]?.stringValue?.contains("closing boundary") == true, "\(body)")
        try assertNothingLeftBehind(map: "pts")
        // Not multipart at all.
        (status, _, body) = try send("POST", "/tilesets/v1/sources/alice/pts", headers: ["Content-Type: application/json"], body: Array("{}".utf8))
        XCTAssertEqual(status, 400)
        XCTAssertNotNil(body["message"]?.stringValue)
        // Larger than max_file_size.
        (status, _, body) = try send("POST", "/tilesets/v1/sources/alice/pts", headers: [multipart], body: Array(repeating: 65, count: 200_000))
        XCTAssertEqual(status, 413, "\(body)")
        try assertNothingLeftBehind(map: "pts")
        // Identifiers: traversal, NUL, too long, another account.
        for target in ["/tilesets/v1/sources/alice/%2e%2e", "/tilesets/v1/sources/alice/a%00b", "/tilesets/v1/sources/alice/" + String(repeating: "a", count: 33),
                       "/tilesets/v1/alice.%2e%2e/publish", "/tilesets/v1/alice." + String(repeating: "x", count: 33) + "/recipe"] {
            let method = target.hasSuffix("publish") ? "POST" : "GET"
            (status, _, body) = try send(method, target)
            XCTAssertTrue((400..<500).contains(status), "\(target): \(status)")
            XCTAssertNotNil(body["message"]?.stringValue, target)
        }
        (status, _, body) = try send("GET", "/tilesets/v1/sources/bob/pts")
        XCTAssertEqual(status, 404)
        XCTAssertTrue(body["message"]?.stringValue?.contains("alice") == true)
        (status, _, _) = try send("GET", "/tilesets/v1/alice?limit=501")
        XCTAssertEqual(status, 422)
        (status, _, _) = try send("GET", "/tilesets/v1/alice?start=nothere")
        XCTAssertEqual(status, 422)
        (status, _, body) = try send("POST", "/tilesets/v1/alice.t", body: Array(#"{"name":"t","recipe":{"version":1,"layers":{}}}"#.utf8))
        XCTAssertEqual(status, 400)
        XCTAssertEqual(body["message"], "Recipe is invalid.")
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/recipes/t.json"))
        (status, _, body) = try send("PUT", "/tilesets/v1/validateRecipe", body: Array(#"{"version":1,"layers":{"a":{"source":"mapbox://tileset-source/alice/none","minzoom":0,"maxzoom":3}}}"#.utf8))
        XCTAssertEqual(body["valid"], false, "a recipe naming a missing source")
        (status, _, body) = try send("PUT", "/tilesets/v1/validateRecipe?accept_invalid_sources=true", body: Array(#"{"version":1,"layers":{"a":{"source":"mapbox://tileset-source/alice/none","minzoom":0,"maxzoom":3}}}"#.utf8))
        XCTAssertEqual(body["valid"], true)
    }

    func testMapTilerRefusesBadChunksAndForeignKeys() throws {
        var (status, _, body) = try send("POST", "/v1/tiles/ingest", body: Array(#"{"filename":"t.mbtiles","size":100}"#.utf8))
        XCTAssertEqual(status, 200, "\(body)")
        let upload = try XCTUnwrap(body["upload"]?["url"]?.stringValue)
        let path = String(upload.dropFirst("http://localhost".count))
        let id = try XCTUnwrap(body["id"]?.stringValue)
        (status, _, body) = try send("PUT", path.replacingOccurrences(of: "key=", with: "key=0"), headers: ["Content-Range: bytes 0-9/100"], body: Array(repeating: 1, count: 10))
        XCTAssertEqual(status, 404, "another key")
        XCTAssertNotNil(body["errors"]?.arrayValue?.first?["message"]?.stringValue, "MapTiler's error shape")
        (status, _, _) = try send("PUT", path, headers: ["Content-Range: bytes 0-9/100"], body: Array(repeating: 1, count: 5))
        XCTAssertEqual(status, 400, "announced 10 bytes, sent 5")
        (status, _, _) = try send("PUT", path, headers: ["Content-Range: bytes 0-9/99"], body: Array(repeating: 1, count: 10))
        XCTAssertEqual(status, 400, "another total")
        (status, _, _) = try send("PUT", path, headers: ["Content-Range: lines 1-2/3"], body: [1])
        XCTAssertEqual(status, 400)
        (status, _, body) = try send("POST", "/v1/tiles/ingest/\(id)/process")
        XCTAssertEqual(status, 400, "nothing uploaded yet")
        (status, _, _) = try send("POST", "/v1/tiles/ingest", body: Array(#"{"filename":"t.mbtiles","size":100000}"#.utf8))
        XCTAssertEqual(status, 413, "larger than max_file_size")
        (status, _, _) = try send("POST", "/v1/tiles/ingest", body: Array(#"{"filename":"a/..","size":10}"#.utf8))
        XCTAssertEqual(status, 400)
        (status, _, _) = try send("GET", "/v1/tiles/ingest/not-a-uuid")
        XCTAssertEqual(status, 404)
        (status, _, body) = try send("POST", "/v1/tiles/ingest/\(id)/cancel")
        XCTAssertEqual(body["state"], "canceled")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.root + "/drop/t").filter { $0.hasPrefix(".upload-") }
        XCTAssertEqual(leftovers, [], "the canceled upload's part file is gone")
    }

    func testMapHubRefusesBadArguments() throws {
        for (arg, expected) in [("", "MapHub-API-Arg"), ("not json", "not valid JSON"), (#"{"file_type":"kml"}"#, "map_id"),
                                (#"{"map_id":"../x","file_type":"kml"}"#, "map name"), (#"{"map_id":"m","file_type":"shp"}"#, "file_type"),
                                (#"{"map_id":"m","file_type":"kml","new_group":"a/b"}"#, "new_group")] {
            let (status, _, body) = try send("POST", "/api/1/map/append", headers: arg.isEmpty ? [] : ["MapHub-API-Arg: \(arg)"], body: Array("<kml/>".utf8))
            XCTAssertEqual(status, 400, arg)
            XCTAssertTrue(body["message"]?.stringValue?.contains(expected) == true, "\(arg): \(body)")
        }
        let (status, _, _) = try send("POST", "/api/1/map/append", headers: [#"MapHub-API-Arg: {"map_id":"m","file_type":"kml"}"#], body: Array(repeating: 60, count: 10_000))
        XCTAssertEqual(status, 413)
        try assertNothingLeftBehind(map: "m")
    }
}
