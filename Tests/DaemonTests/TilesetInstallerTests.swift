@testable import Daemon
import Foundation
import Storage
import SystemSupport
import XCTest

/// Issue 8: container validation stops inside SQLite when the ingest must stop.
final class TilesetInstallerTests: XCTestCase {
    private struct Stop: Error {}
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "installer-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A valid container of 20,000 empty gzip tiles: validating it takes many SQLite steps.
    private func container() throws -> String {
        let path = dir + "/big.mbtiles"
        let db = try SQLiteDatabase(path: path)
        try db.execute("""
            CREATE TABLE metadata (name TEXT, value TEXT);
            INSERT INTO metadata VALUES ('name', 'big'), ('format', 'pbf'), ('json', '{"vector_layers":[]}');
            CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
            INSERT INTO tiles SELECT 15, i, 0, x'1f8b08000000000000030300000000000000000000' FROM n;
            """)
        return path
    }

    func testTheInterruptCheckStopsValidationWithItsOwnError() throws {
        let path = try container()
        var calls = 0
        let started = Date()
        XCTAssertThrowsError(try TilesetInstaller(fileSystem: FileSystem()).install(path, as: "big.mbtiles", destination: dir + "/out.mbtiles") {
            calls += 1
            throw Stop()
        }) { error in
            XCTAssertTrue(error is Stop, "the caller's error, not SQLite's interrupt: \(error)")
        }
        XCTAssertEqual(calls, 1, "stopped at the first check (inside SQLite's progress handler)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out.mbtiles"))
    }

    func testAValidContainerInstallsWhenNothingInterrupts() throws {
        let path = try container()
        let tiles = try TilesetInstaller(fileSystem: FileSystem()).install(path, as: "big.mbtiles", destination: dir + "/out.mbtiles") {}
        XCTAssertEqual(tiles, 20_000)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out.mbtiles"))
    }
}
