import Foundation
import GeoModel
import Storage
import Tiling
import XCTest

/// Issue 13: an append republishes only the tiles it touches, in one transaction.
final class IncrementalPublishTests: XCTestCase {
    private func point(_ n: Int, name: String? = nil) -> String {
        #"{"type":"Feature","id":\#(n),"properties":{"n":\#(n),"name":"\#(name ?? "p\(n)")"},"geometry":{"type":"Point","coordinates":[\#(10 + Double(n) * 0.37),\#(40 + Double(n % 17) * 0.5)]}}"#
    }

    private func points(_ range: Range<Int>) -> Data {
        Data(("{\"type\":\"FeatureCollection\",\"features\":[" + range.map { point($0) }.joined(separator: ",") + "]}").utf8)
    }

    /// Every tile (decoded to GeoJSON text) and the metadata, read through a read-write
    /// connection (which rolls back an interrupted transaction, as the daemon's would).
    private func snapshot(_ path: String) throws -> [String: String] {
        let db = try SQLiteDatabase(path: path, create: false, followSymlinks: false)
        var out: [String: String] = [:]
        let tiles = try db.prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
        while try tiles.step() {
            let tile = try MVTTile(decoding: try Gzip.decompress(tiles.blob(3)))
            out["\(tiles.int(0))/\(tiles.int(1))/\(tiles.int(2))"] = JSONWriter.string(MVTGeoJSON.featureCollection(tile, id: TileID(z: 0, x: 0, y: 0)))
        }
        let metadata = try db.prepare("SELECT name, value FROM metadata")
        while try metadata.step() { out["metadata " + (metadata.text(0) ?? "")] = metadata.text(1) ?? "" }
        return out
    }

    private func jobs(_ harness: DaemonHarness, success: Int) -> Bool {
        let jobs = (try? harness.status())?["jobs"]
        return jobs?["success"]?.intValue == success && jobs?["queued"]?.intValue == 0 && jobs?["processing"]?.intValue == 0
    }

    func testAppendsUpdateTheTilesetInPlaceAndEqualAFullRebuild() throws {
        let harness = try DaemonHarness(extraConfig: "incremental_max_share = 1")
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points(0..<40), map: "inc", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 1) }, harness.log)
        try harness.drop(points(40..<43), map: "inc", name: "b.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 2) }, harness.log)
        XCTAssertTrue(harness.log.contains("tileset inc: appended 3 feature(s) incrementally"), harness.log)
        let tileset = harness.root + "/tiles/inc.mbtiles"
        let incremental = try snapshot(tileset)
        let z0 = try harness.cli(["tile", tileset, "0/0/0"])
        XCTAssertEqual((try JSONParser.parse(Array(z0.stdout))["features"]?.arrayValue ?? []).count, 43)

        // A republish rebuilds from all sources: the same tiles and metadata.
        XCTAssertEqual(try harness.cli(["republish", "inc", "--root", harness.root]).status, 0)
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 3) }, harness.log)
        XCTAssertTrue(harness.log.contains("tileset inc: full rebuild: nothing was appended"), harness.log)
        XCTAssertEqual(try snapshot(tileset), incremental)
        XCTAssertEqual(harness.stop(), 0)
    }

    /// A compaction (`max_source_files`) concatenates the source files it replaces; the next
    /// publish sees through it (the lineage in `state.db`) and is still incremental, and the
    /// tiles equal a full rebuild's.
    func testACompactionBetweenPublishesKeepsThemIncremental() throws {
        let harness = try DaemonHarness(extraConfig: "incremental_max_share = 1\nmax_source_files = 2")
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points(0..<30), map: "inc", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 1) }, harness.log)
        for (k, range) in [30..<33, 33..<35, 35..<40, 40..<41].enumerated() {
            try harness.drop(points(range), map: "inc", name: "more-\(k).geojson")
            XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 2 + k) }, harness.log)
        }
        XCTAssertTrue(harness.log.contains("map inc: compacted"), harness.log)
        XCTAssertEqual(harness.log.components(separatedBy: "tileset inc: full rebuild").count - 1, 1, "only the first publish: \(harness.log)")
        XCTAssertEqual(harness.log.components(separatedBy: "feature(s) incrementally").count - 1, 4, harness.log)
        let tileset = harness.root + "/tiles/inc.mbtiles"
        let incremental = try snapshot(tileset)
        let z0 = try harness.cli(["tile", tileset, "0/0/0"])
        XCTAssertEqual((try JSONParser.parse(Array(z0.stdout))["features"]?.arrayValue ?? []).count, 41, "every feature once")

        XCTAssertEqual(try harness.cli(["republish", "inc", "--root", harness.root]).status, 0)
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 6) }, harness.log)
        XCTAssertEqual(try snapshot(tileset), incremental)
        XCTAssertEqual(harness.stop(), 0)
    }

    func testChangesetsAppendNewIdsIncrementallyAndRewriteForReplacedOrDeletedOnes() throws {
        let curl = try XCTUnwrap(ServiceClientsTests.which("curl"), "curl is needed")
        let port = try ServiceClientsTests.freePort()
        let harness = try DaemonHarness(extraConfig: "owner = alice\nlisten = 127.0.0.1:\(port)\nincremental_max_share = 1")
        defer { harness.cleanUp() }
        try harness.start()
        let created = try harness.cli(["token", "create", "--scopes", "tilesets:read tilesets:write tilesets:list", "--config", harness.configPath, "--root", harness.root])
        let token = String(decoding: created.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        try harness.drop(points(0..<30), map: "cs", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 1) }, harness.log)

        func post(_ lines: [String]) throws -> (status: Int, body: JSONValue) {
            let file = harness.root + "/changeset.geojsonl"
            try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let r = try DaemonHarness.runTool(curl, ["-s", "-w", "\n%{http_code}", "-F", "file=@" + file,
                                                   "http://127.0.0.1:\(port)/tilesets/v1/alice.cs/publish-changesets?access_token=\(token)"])
            let parts = r.output.split(separator: "\n")
            return (Int(parts.last ?? "") ?? 0, (try? JSONParser.parse(String(parts.dropLast().joined(separator: "\n")))) ?? .null)
        }
        func z0() throws -> [JSONValue] {
            let tile = try harness.cli(["tile", harness.root + "/tiles/cs.mbtiles", "0/0/0"])
            return try JSONParser.parse(Array(tile.stdout))["features"]?.arrayValue ?? []
        }

        var (status, body) = try post([point(30), point(31)])
        XCTAssertEqual(status, 200, "\(body)")
        XCTAssertEqual(body["incremental"], true)
        XCTAssertNotNil(body["jobId"]?.stringValue)
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 2) }, harness.log)
        XCTAssertTrue(harness.log.contains("tileset cs: appended 2 feature(s) incrementally"), harness.log)
        XCTAssertTrue(harness.log.contains("job \(body["jobId"]?.stringValue ?? "-")"), "the answer names the job the ingest queued")
        XCTAssertEqual(try z0().count, 32)

        (status, body) = try post([#"{"id": 3, "delete": true}"#, point(5, name: "moved"), #"{"id": 999, "delete": true}"#])
        XCTAssertEqual(status, 200, "\(body)")
        XCTAssertEqual(body["incremental"], false)
        XCTAssertEqual(body["replaced"], 2)
        XCTAssertTrue(waitUntil(timeout: 60) { jobs(harness, success: 3) }, harness.log)
        let features = try z0()
        XCTAssertEqual(features.count, 31)
        XCTAssertFalse(features.contains { $0["properties"]?["n"]?.intValue == 3 }, "feature 3 was deleted")
        XCTAssertEqual(features.filter { $0["properties"]?["n"]?.intValue == 5 }.compactMap { $0["properties"]?["name"]?.stringValue }, ["moved"])

        (status, body) = try post([#"{"type": "Feature", "geometry": null, "properties": {}}"#])
        XCTAssertEqual(status, 400)
        XCTAssertTrue(JSONWriter.string(body).contains("changeset line 1"), "\(body)")
        XCTAssertEqual(harness.stop(), 0)
    }

    func testCrashDuringAnIncrementalPublishKeepsThePreviousTilesetAndTheJobRunsAgain() throws {
        let countries = DaemonHarness.fixtures + "/real/ne_110m_admin_0_countries.json"
        guard let world = FileManager.default.contents(atPath: countries) else {
            throw XCTSkip("fixture \(countries) not found (set TILEDROP_FIXTURES)")
        }
        let harness = try DaemonHarness(extraConfig: "incremental_max_share = 1\ndefault_maxzoom = 5")
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(world, map: "w", name: "world.geojson")
        XCTAssertTrue(waitUntil(timeout: 120) { jobs(harness, success: 1) }, harness.log)
        let tileset = harness.root + "/tiles/w.mbtiles"
        let before = try snapshot(tileset)

        // The same countries again under other names touch every tile: a long update transaction.
        let renamed = Data(String(decoding: world, as: UTF8.self).replacingOccurrences(of: "\"NAME\"", with: "\"NAME_AGAIN\"").utf8)
        try harness.drop(renamed, map: "w", name: "again.geojson")
        let journal = tileset + "-journal"
        // The transaction can be short on a quiet machine: poll every millisecond, not every 50.
        let deadline = Date().addingTimeInterval(120)
        var sawJournal = false
        while !sawJournal, Date() < deadline {
            sawJournal = access(journal, F_OK) == 0
            if !sawJournal { usleep(1_000) }
        }
        XCTAssertTrue(sawJournal, "the update transaction began; \(harness.log)")
        harness.crash()
        XCTAssertFalse(harness.log.contains("appended 177 feature(s) incrementally"), "killed before the commit")
        XCTAssertEqual(try snapshot(tileset), before, "the previous tileset is intact after kill -9 mid-update")

        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 120) { jobs(harness, success: 2) }, harness.log)
        XCTAssertTrue(harness.log.contains("tileset w: appended 177 feature(s) incrementally"), harness.log)
        let tile = try harness.cli(["tile", tileset, "0/0/0"])
        let features = try JSONParser.parse(Array(tile.stdout))["features"]?.arrayValue ?? []
        XCTAssertEqual(features.compactMap { $0["properties"]?["NAME_AGAIN"]?.stringValue }.count, 177, "the re-run published the append")
        XCTAssertEqual(harness.stop(), 0)
    }
}
