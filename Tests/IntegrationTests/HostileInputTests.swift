import Foundation
import GeoModel
import Storage
import Tiling
import XCTest

/// Issue 8, input side: files built to hang, trap or slow the daemon fail fast or convert fast.
final class HostileInputTests: XCTestCase {
    /// One feature with 200,000 distinct property keys converts in well under the limit (it took
    /// 40 s while object lookups were linear).
    func testTwoHundredThousandPropertyKeysConvertQuickly() throws {
        let harness = try DaemonHarness(extraConfig: "default_maxzoom = 1")
        defer { harness.cleanUp() }
        try harness.start()
        var text = #"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[8.5,47.3]},"properties":{"#
        text += (0..<200_000).map { "\"key\($0)\":\($0)" }.joined(separator: ",")
        text += "}}]}"
        let started = Date()
        try harness.drop(Data(text.utf8), map: "wide", name: "wide.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log.suffix(3000).description)
        let seconds = Date().timeIntervalSince(started)
        print("HostileInputTests: 200,000 keys dropped and ingested in \(String(format: "%.2f", seconds)) s (settle 0.3 s included)")
        XCTAssertLessThan(seconds, 20, "linear: about a second even on a loaded machine (quadratic lookups took over a minute)")
        let source = try FileManager.default.contentsOfDirectory(atPath: harness.root + "/sources/wide").filter { $0.hasSuffix(".geojsonl") && !$0.hasPrefix(".") }
        XCTAssertEqual(source.count, 1)
        let feature = try JSONParser.parse(String(contentsOfFile: harness.root + "/sources/wide/" + source[0], encoding: .utf8))
        XCTAssertEqual(feature["properties"]?.objectValue?.count, 200_000)
        XCTAssertEqual(feature["properties"]?["key199999"], .int(199_999))
        XCTAssertEqual(harness.stop(), 0)
    }

    /// A fresh scratch folder outside any daemon root, removed by the caller.
    private func scratch() throws -> String {
        let work = NSTemporaryDirectory() + "tiledrop-hostile-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return work
    }

    /// An MBTiles-looking container whose `tiles` view is a recursive CTE that never ends.
    private func recursiveViewContainer(in work: String) throws -> Data {
        let path = work + "/loop.mbtiles"
        try SQLiteDatabase(path: path).execute("""
            PRAGMA application_id = 1297105496;
            CREATE TABLE metadata (name TEXT, value TEXT);
            INSERT INTO metadata VALUES ('name', 'loop'), ('format', 'pbf'), ('json', '{"vector_layers":[]}');
            CREATE VIEW tiles AS WITH RECURSIVE r(zoom_level, tile_column, tile_row, tile_data) AS
              (SELECT 0, 0, 0, x'1f8b' UNION ALL SELECT zoom_level, tile_column, tile_row, tile_data FROM r) SELECT * FROM r;
            """)
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// A recursive-view container fails at once with a reason, another map's drop completes
    /// meanwhile, and SIGTERM still exits promptly (it used to spin forever, across restarts).
    func testRecursiveViewContainerFailsAndNothingWedges() throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let harness = try DaemonHarness(extraConfig: "max_processing_seconds = 5\ndefault_maxzoom = 1")
        defer { harness.cleanUp() }
        try harness.start()
        let started = Date()
        try harness.drop(try recursiveViewContainer(in: work), map: "loop", name: "loop.mbtiles")
        try harness.drop(Data(#"{"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[1,2]}}"#.utf8), map: "other", name: "p.geojson")
        let report = harness.root + "/failed/loop/loop.mbtiles.error.json"
        XCTAssertTrue(waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: report) }, harness.log.suffix(3000).description)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "within the time limit")
        let reason = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(reason.contains("standard map/images view"), reason)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log.suffix(3000).description)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/tiles/loop.mbtiles"))
        let stopping = Date()
        XCTAssertEqual(harness.stop(), 0)
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 5, "SIGTERM exits promptly")
    }

    /// A tile whose ring reaches Int32's extremes: `tiledrop tile` reports it (it trapped in
    /// the signed-area sum), and the container validator refuses to install it.
    func testTileWithInt32ExtremeCoordinatesIsAnErrorNotATrap() throws {
        let work = try scratch()
        defer { try? FileManager.default.removeItem(atPath: work) }
        try #"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}"#.write(toFile: work + "/p.geojson", atomically: true, encoding: .utf8)
        try #"{"version":1,"layers":{"pts":{"source":"p.geojson","minzoom":0,"maxzoom":0}}}"#.write(toFile: work + "/r.json", atomically: true, encoding: .utf8)
        let published = try DaemonHarness.run(["publish", work + "/r.json", "-o", work + "/evil.mbtiles"])
        XCTAssertEqual(published.status, 0, published.stderr)
        // Replace the one tile with a polygon through (2^31-1, 0), (0, 2^31-1), (-2^31, -2^31).
        func zz(_ n: Int32) -> UInt32 { UInt32(bitPattern: (n << 1) ^ (n >> 31)) }
        let ring: [UInt32] = [9, zz(.max), 0, 2 | 2 << 3, zz(0 &- .max), zz(.max), zz(.min), zz(.min &- .max), 15]
        var layer = MVTLayerBuilder(name: "pts")
        layer.addFeature(id: 1, type: .polygon, geometry: ring, properties: [])
        let db = try SQLiteDatabase(path: work + "/evil.mbtiles")
        try db.prepare("UPDATE images SET tile_data = ?").run([.blob(Gzip.compress(MVTTileEncoder.encode([layer])))])

        let shown = try DaemonHarness.run(["tile", work + "/evil.mbtiles", "0/0/0"])
        XCTAssertEqual(shown.status, 65, "a data error, not a signal: \(shown.stderr)")
        XCTAssertTrue(shown.stderr.contains("outside the tile"), shown.stderr)

        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(try Data(contentsOf: URL(fileURLWithPath: work + "/evil.mbtiles")), map: "evil", name: "evil.mbtiles")
        let report = harness.root + "/failed/evil/evil.mbtiles.error.json"
        XCTAssertTrue(waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: report) }, harness.log.suffix(3000).description)
        let reason = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(reason.contains("corrupt or hostile"), reason)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/tiles/evil.mbtiles"))
        XCTAssertEqual(harness.stop(), 0)
    }

    /// A group member plants symbolic links at every name the daemon writes in `failed/<map>/`
    /// (the report's temporary name, the report itself, the numbered variants): the victim
    /// file is never written through, and the reports are regular files.
    func testPlantedSymlinksInFailedAreNeverFollowed() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        let victim = harness.root + "/victim.txt"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        let failed = harness.root + "/failed/m/"
        try FileManager.default.createDirectory(atPath: failed, withIntermediateDirectories: true)
        for name in [".bad.geojson.error.json.tmp", ".bad.1.geojson.error.json.tmp", "other.geojson.error.json",
                     ".other.geojson.error.json.tmp", ".other.1.geojson.error.json.tmp", "other.1.geojson.error.json"] {
            XCTAssertEqual(symlink(victim, failed + name), 0, name)
        }
        try harness.start()
        try harness.drop(Data("{ not json".utf8), map: "m", name: "bad.geojson")
        try harness.drop(Data("also [ not json".utf8), map: "m", name: "other.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["ingests"]?["failed"]?.intValue == 2 }, harness.log.suffix(3000).description)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious", "the victim was written through a link")
        let reports = try FileManager.default.contentsOfDirectory(atPath: failed).filter { !$0.hasPrefix(".") && $0.hasSuffix(".error.json") }
        var regularReports = 0
        for name in reports {
            var st = stat()
            XCTAssertEqual(lstat(failed + name, &st), 0)
            if st.st_mode & S_IFMT == S_IFREG {
                regularReports += 1
                XCTAssertTrue(try String(contentsOfFile: failed + name, encoding: .utf8).contains("ingest_id"), name)
            }
        }
        XCTAssertEqual(regularReports, 2, "one report per failed file: \(reports)")
        XCTAssertEqual(harness.stop(), 0)
    }
}
