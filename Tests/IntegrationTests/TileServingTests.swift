import Foundation
import GeoModel
import XCTest

/// Vector tiles and TileJSON from tiles/ over TCP, against the real binary.
final class TileServingTests: XCTestCase {
    private func points(_ tag: String, _ coords: [(Double, Double)]) -> Data {
        let features = coords.enumerated().map { i, c in
            #"{"type":"Feature","properties":{"name":"\#(tag)\#(i)"},"geometry":{"type":"Point","coordinates":[\#(c.0),\#(c.1)]}}"#
        }
        return Data(#"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#.utf8)
    }

    /// A tileset put into `tiles/` by hand (as an installed container is) has no recipe and
    /// no map, and is served across restarts: the start-up retirement of orphaned tilesets only
    /// takes files a publish job wrote.
    func testATilesetPutIntoTilesIsServedAcrossRestarts() throws {
        let port = try TokensAndOperatorTests.freePort()
        let harness = try DaemonHarness(extraConfig: "listen = 127.0.0.1:\(port)\nowner = alice")
        defer { harness.cleanUp() }
        let work = harness.root + "/outside"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try points("p", [(8.5, 47.3)]).write(to: URL(fileURLWithPath: work + "/in.geojson"))
        try #"{"version":1,"layers":{"huts":{"source":"in.geojson","minzoom":0,"maxzoom":3}}}"#.write(toFile: work + "/recipe.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: harness.root + "/tiles", withIntermediateDirectories: true)
        let published = try harness.cli(["publish", work + "/recipe.json", "-o", harness.root + "/tiles/huts.mbtiles"])
        XCTAssertEqual(published.status, 0, published.stderr)
        for round in 0..<2 {
            try harness.start()
            XCTAssertTrue(waitUntil(timeout: 10) { (try? TokensAndOperatorTests.tcp(port, "GET", "/health"))?.status == 200 }, harness.log)
            XCTAssertEqual(try TokensAndOperatorTests.tcp(port, "GET", "/v4/alice.huts/0/0/0.mvt").status, 200, "start \(round + 1): " + harness.log)
            XCTAssertEqual(harness.stop(), 0)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/tiles/huts.mbtiles"))
    }

    func testTilesTileJSONCachingCompositesAndRepublish() throws {
        let port = try TokensAndOperatorTests.freePort()
        let harness = try DaemonHarness(extraConfig: "listen = 127.0.0.1:\(port)\nowner = alice")
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points("a", [(13.4, 52.5), (-73.9, 40.7)]), map: "berlin", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["jobs"]?["success"]?.intValue == 1 }, harness.log)
        func get(_ target: String, _ headers: [String] = []) throws -> (status: Int, headers: [String: String], body: String) {
            try TokensAndOperatorTests.tcp(port, "GET", target, headers: headers)
        }

        let tilejson = try get("/v4/alice.berlin.json")
        XCTAssertEqual(tilejson.status, 200, tilejson.body)
        let tj = try JSONParser.parse(Array(tilejson.body.utf8))
        XCTAssertEqual(tj["tilejson"]?.stringValue, "3.0.0")
        XCTAssertEqual(tj["tiles"]?.arrayValue?.first?.stringValue, "http://127.0.0.1/v4/alice.berlin/{z}/{x}/{y}.mvt")
        XCTAssertEqual(tj["vector_layers"]?.arrayValue?.first?["id"]?.stringValue, "berlin")
        XCTAssertEqual(tj["vector_layers"]?.arrayValue?.first?["source"]?.stringValue, "alice.berlin")
        XCTAssertEqual(tj["private"], false)
        XCTAssertEqual(tj["mapbox_logo"], false)
        XCTAssertEqual(tj["webpage"]?.stringValue, "http://127.0.0.1/tilesets/berlin", "the tileset's map page")
        XCTAssertEqual(tj["filesize"]?.intValue, (try FileManager.default.attributesOfItem(atPath: harness.root + "/tiles/berlin.mbtiles")[.size] as? Int))
        XCTAssertGreaterThan(tj["created"]?.intValue ?? 0, 1_700_000_000_000, "milliseconds, as MTS gives them")
        XCTAssertNotNil(tj["version"]?.stringValue)
        let secure = try JSONParser.parse(Array(try get("/v4/alice.berlin.json?secure").body.utf8))
        XCTAssertEqual(secure["tiles"]?.arrayValue?.first?.stringValue, "https://127.0.0.1/v4/alice.berlin/{z}/{x}/{y}.mvt")
        let proxied = try JSONParser.parse(Array(try get("/v4/alice.berlin.json", ["X-Forwarded-Proto: https", "X-Forwarded-Host: tiles.example.org"]).body.utf8))
        XCTAssertEqual(proxied["tiles"]?.arrayValue?.first?.stringValue, "https://tiles.example.org/v4/alice.berlin/{z}/{x}/{y}.mvt")

        let tile = try get("/v4/alice.berlin/0/0/0.mvt")
        XCTAssertEqual(tile.status, 200)
        XCTAssertEqual(tile.headers["cache-control"], "max-age=43200,s-maxage=300")
        XCTAssertEqual(tile.headers["content-type"], "application/vnd.mapbox-vector-tile")
        XCTAssertNil(tile.headers["content-encoding"], "decompressed for a client that does not accept gzip")
        XCTAssertTrue(tile.body.contains("berlin") && tile.body.contains("a0"), "an MVT layer named after the map")
        let gz = try get("/v4/alice.berlin/0/0/0.vector.pbf", ["Accept-Encoding: gzip"])
        XCTAssertEqual(gz.headers["content-encoding"], "gzip")
        let etag = try XCTUnwrap(gz.headers["etag"])
        XCTAssertEqual(try get("/v4/alice.berlin/0/0/0.vector.pbf", ["Accept-Encoding: gzip", "If-None-Match: \(etag)"]).status, 304)
        let composite = try get("/v4/alice.berlin,alice.berlin/0/0/0.mvt")
        XCTAssertEqual(composite.status, 200)
        XCTAssertEqual(composite.body.utf8.count, tile.body.utf8.count * 2, "layers concatenated")

        XCTAssertEqual(try get("/v4/alice.berlin/31/0/0.mvt").body, "{\"message\":\"Zoom level must be between 0-30.\"}\n")
        XCTAssertEqual(try get("/v4/alice.berlin/a/0/0.mvt").status, 422)
        XCTAssertEqual(try get("/v4/alice.nope/0/0/0.mvt").body, "{\"message\":\"Tileset alice.nope does not exist\"}\n")
        XCTAssertEqual(try get("/v4/bob.berlin/0/0/0.mvt").status, 404)
        XCTAssertEqual(try get("/v4/alice.berlin/5/0/0.mvt").body, "{\"message\":\"Tile not found\"}\n", "outside the bounds")
        XCTAssertEqual(try get("/v4/alice.berlin/3/3/2.mvt").status, 204, "inside bounds and zooms, no features: empty")
        XCTAssertEqual(try get("/v4/" + Array(repeating: "alice.berlin", count: 16).joined(separator: ",") + "/0/0/0.mvt").status, 422)
        XCTAssertEqual(try get("/v4/alice.berlin/0/0/0.mvt", ["Origin: https://map.example"]).headers["access-control-allow-origin"], "*")

        // Republish: the next request sees the new file.
        try harness.drop(points("b", [(13.3, 52.6)]), map: "berlin", name: "b.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["jobs"]?["success"]?.intValue == 2 }, harness.log)
        XCTAssertTrue(waitUntil(timeout: 5) { (try? get("/v4/alice.berlin/0/0/0.mvt"))?.body.contains("b0") == true }, "no stale tile after a republish")
        let metrics = try get("/metrics").body
        XCTAssertTrue(metrics.contains("tiledrop_tiles_served_total{outcome=\"ok\"}"), metrics)
        XCTAssertEqual(harness.stop(), 0)
    }

    /// MTS `PATCH {"private": …}` applies to tile and TileJSON reads at once, not at the next
    /// publish (the server keeps its tileset files open between requests).
    func testPatchingPrivateAppliesToTheNextTileRead() throws {
        let port = try TokensAndOperatorTests.freePort()
        let harness = try DaemonHarness(extraConfig: "listen = 127.0.0.1:\(port)\nowner = alice")
        defer { harness.cleanUp() }
        let created = try harness.cli(["token", "create", "--scopes", "tilesets:read tilesets:write tilesets:list", "--owner", "alice", "--root", harness.root])
        XCTAssertEqual(created.status, 0, created.stderr)
        let token = String(decoding: created.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        try harness.start()
        try harness.drop(points("a", [(13.4, 52.5)]), map: "berlin", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { (try? harness.status())?["jobs"]?["success"]?.intValue == 1 }, harness.log)
        func tile(_ query: String = "") throws -> Int { try TokensAndOperatorTests.tcp(port, "GET", "/v4/alice.berlin/0/0/0.mvt" + query).status }
        func patch(_ body: String) throws -> Int {
            try TokensAndOperatorTests.tcp(port, "PATCH", "/tilesets/v1/alice.berlin?access_token=\(token)", headers: ["Content-Type: application/json"], body: body).status
        }
        XCTAssertEqual(try tile(), 200, "a tileset from a drop folder is public")

        XCTAssertEqual(try patch(#"{"private": true}"#), 204)
        XCTAssertEqual(try tile(), 401, "private from the next request on")
        XCTAssertEqual(try TokensAndOperatorTests.tcp(port, "GET", "/v4/alice.berlin.json").status, 401)
        XCTAssertEqual(try tile("?access_token=\(token)"), 200)
        let tilejson = try TokensAndOperatorTests.tcp(port, "GET", "/v4/alice.berlin.json?access_token=\(token)")
        XCTAssertEqual(try JSONParser.parse(Array(tilejson.body.utf8))["private"], true, tilejson.body)

        XCTAssertEqual(try patch(#"{"private": false}"#), 204)
        XCTAssertEqual(try tile(), 200, "public again at once")
        XCTAssertEqual(harness.stop(), 0)
    }

    /// The server keeps served tiles in memory (`TileBytesCache`); an incremental publish that
    /// updates the file in place (same inode) is seen by the next request all the same.
    func testAnInPlaceIncrementalUpdateIsServedAtOnce() throws {
        let port = try TokensAndOperatorTests.freePort()
        let harness = try DaemonHarness(extraConfig: "listen = 127.0.0.1:\(port)\nowner = alice")
        defer { harness.cleanUp() }
        try harness.start()
        // Spread over the world, so that one new point touches few of the tileset's tiles.
        let spread: [(Double, Double)] = (0..<40).map { (i: Int) -> (Double, Double) in (-170.0 + Double(i) * 8.5, -60.0 + Double(i % 12) * 10.0) }
        try harness.drop(points("a", spread), map: "berlin", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { (try? harness.status())?["jobs"]?["success"]?.intValue == 1 }, harness.log)
        let inode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: harness.root + "/tiles/berlin.mbtiles")[.systemFileNumber] as? UInt64)
        for _ in 0..<2 { XCTAssertFalse(try TokensAndOperatorTests.tcp(port, "GET", "/v4/alice.berlin/0/0/0.mvt").body.contains("new0")) }

        try harness.drop(points("new", [(13.2, 52.6)]), map: "berlin", name: "b.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { (try? harness.status())?["jobs"]?["success"]?.intValue == 2 }, harness.log)
        XCTAssertTrue(harness.log.contains("incrementally"), "the second publish updated the file in place: " + harness.log)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: harness.root + "/tiles/berlin.mbtiles")[.systemFileNumber] as? UInt64, inode)
        XCTAssertTrue(try TokensAndOperatorTests.tcp(port, "GET", "/v4/alice.berlin/0/0/0.mvt").body.contains("new0"), "no stale tile from the cache")
        XCTAssertEqual(harness.stop(), 0)
    }
}
