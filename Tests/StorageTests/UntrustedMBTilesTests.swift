import Foundation
@testable import Storage
import XCTest

/// Issue 8: a dropped SQLite file chooses its own schema; only safe ones are queried, and
/// every query can be stopped.
final class UntrustedMBTilesTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "untrusted-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// An MBTiles-looking file whose `tiles` is created by `tilesSQL`.
    private func container(_ tilesSQL: String) throws -> String {
        let path = dir + "/c\(UInt32.random(in: 0...UInt32.max)).mbtiles"
        let db = try SQLiteDatabase(path: path)
        try db.execute("""
            CREATE TABLE metadata (name TEXT, value TEXT);
            INSERT INTO metadata VALUES ('name', 'x'), ('format', 'pbf'), ('json', '{"vector_layers":[]}');
            \(tilesSQL);
            """)
        return path
    }

    static let recursiveView = """
        CREATE VIEW tiles AS WITH RECURSIVE r(zoom_level, tile_column, tile_row, tile_data) AS
        (SELECT 0, 0, 0, x'1f8b' UNION ALL SELECT zoom_level, tile_column, tile_row, tile_data FROM r) SELECT * FROM r
        """

    func testRecursiveViewIsRefusedBeforeAnyQueryRuns() throws {
        let path = try container(Self.recursiveView)
        XCTAssertThrowsError(try MBTilesReader(path: path)) { error in
            XCTAssertTrue("\(error)".contains("not the standard map/images view"), "\(error)")
        }
    }

    func testStandardLayoutsAreAccepted() throws {
        let table = try container("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        XCTAssertNoThrow(try MBTilesReader(path: table))
        // mbutil / tippecanoe spelling, lower case, trailing semicolon, quoted names.
        let mbutil = try container("""
            CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT);
            CREATE TABLE images (tile_data blob, tile_id text);
            CREATE VIEW tiles as select map.zoom_level as zoom_level, map.tile_column as tile_column, map.tile_row as tile_row,
                "images".tile_data as tile_data FROM map JOIN images on images.tile_id = map.tile_id
            """)
        XCTAssertNoThrow(try MBTilesReader(path: mbutil))
        // planetiler's compact layout.
        let planetiler = try container("""
            CREATE TABLE tiles_shallow (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data_id INTEGER);
            CREATE TABLE tiles_data (tile_data_id INTEGER PRIMARY KEY, tile_data BLOB);
            CREATE VIEW tiles AS SELECT tiles_shallow.zoom_level AS zoom_level, tiles_shallow.tile_column AS tile_column,
                tiles_shallow.tile_row AS tile_row, tiles_data.tile_data AS tile_data
                FROM tiles_shallow INNER JOIN tiles_data ON tiles_shallow.tile_data_id = tiles_data.tile_data_id
            """)
        XCTAssertNoThrow(try MBTilesReader(path: planetiler))
        // tippecanoe 2.x: images deduplicated per zoom, the view joins on the zoom too.
        let tippecanoe2 = try container("""
            CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT);
            CREATE TABLE images (zoom_level integer, tile_data blob, tile_id text);
            CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column, map.tile_row AS tile_row,
                images.tile_data AS tile_data FROM map JOIN images ON images.tile_id = map.tile_id and images.zoom_level = map.zoom_level
            """)
        XCTAssertNoThrow(try MBTilesReader(path: tippecanoe2))
    }

    func testLookalikeViewsAreRefused() throws {
        let base = "CREATE TABLE map (zoom_level, tile_column, tile_row, tile_id); CREATE TABLE images (tile_id, tile_data);"
        let standard = "SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column, map.tile_row AS tile_row, images.tile_data AS tile_data FROM map JOIN images ON images.tile_id = map.tile_id"
        for sql in [
            "CREATE VIEW tiles AS \(standard) WHERE 1",
            "CREATE VIEW tiles AS \(standard) UNION ALL \(standard)",
            "CREATE VIEW tiles AS \(standard.replacingOccurrences(of: "images.tile_id = map.tile_id", with: "images.tile_id = map.zoom_level"))",
            "CREATE VIEW tiles AS \(standard) AND images.tile_id = map.zoom_level",
            "CREATE VIEW tiles AS \(standard) AND 1 = 1",
            "CREATE VIEW tiles AS \(standard) OR images.tile_id = map.tile_id",
        ] {
            XCTAssertThrowsError(try MBTilesReader(path: try container(base + sql)), sql)
        }
        // The standard view over a view (which could recurse) is refused too.
        let overView = try container("""
            CREATE TABLE m (zoom_level, tile_column, tile_row, tile_id); CREATE VIEW map AS SELECT * FROM m;
            CREATE TABLE images (tile_id, tile_data); CREATE VIEW tiles AS \(standard)
            """)
        XCTAssertThrowsError(try MBTilesReader(path: overView)) { XCTAssertTrue("\($0)".contains("not a plain table"), "\($0)") }
        // metadata must be a plain table: a view could recurse just as well.
        let path = dir + "/metaview.mbtiles"
        try SQLiteDatabase(path: path).execute("""
            CREATE VIEW metadata AS WITH RECURSIVE r(name, value) AS (SELECT 'a', 'b' UNION ALL SELECT name, value FROM r) SELECT * FROM r;
            CREATE TABLE tiles (zoom_level, tile_column, tile_row, tile_data)
            """)
        XCTAssertThrowsError(try MBTilesReader(path: path)) { XCTAssertTrue("\($0)".contains("metadata is a view"), "\($0)") }
    }

    func testInterruptStopsARunawayQuery() throws {
        let db = try SQLiteDatabase(untrustedPath: try container("CREATE TABLE tiles (zoom_level, tile_column, tile_row, tile_data)"))
        let deadline = Date().addingTimeInterval(0.3)
        db.interruptWhen { Date() > deadline }
        let started = Date()
        XCTAssertThrowsError(try db.scalarInt("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")) { error in
            XCTAssertTrue((error as? StorageError)?.isInterrupt ?? false, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testUntrustedOpenIsReadOnlyAndRefusesSymlinks() throws {
        let path = try container("CREATE TABLE tiles (zoom_level, tile_column, tile_row, tile_data)")
        let db = try SQLiteDatabase(untrustedPath: path)
        XCTAssertThrowsError(try db.execute("INSERT INTO metadata VALUES ('a', 'b')"))
        XCTAssertEqual(symlink(path, dir + "/link.mbtiles"), 0)
        XCTAssertThrowsError(try SQLiteDatabase(untrustedPath: dir + "/link.mbtiles"))
    }
}
