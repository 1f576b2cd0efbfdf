import CSQLite
import Foundation
import GeoModel
@testable import Storage
import XCTest

final class MBTilesWriterTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mbtiles-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A real gzip member of empty content; `mtime` varies the header so blobs differ.
    private func gzipEmpty(mtime: UInt8) -> [UInt8] {
        [0x1F, 0x8B, 0x08, 0x00, mtime, 0, 0, 0, 0x00, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
    }

    private let metadata: [(name: String, value: String)] = [
        ("name", "t"), ("format", "pbf"), ("minzoom", "0"), ("maxzoom", "1"), ("bounds", "-180,-85,180,85"),
        ("center", "0,0,0"), ("json", #"{"vector_layers":[{"id":"l","fields":{}}]}"#),
    ]

    func testWritesSchemaRowsAndDeduplicates() throws {
        let path = dir + "/out.mbtiles"
        let w = try MBTilesWriter(path: path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing at the target before finish")
        try w.write(TileID(z: 0, x: 0, y: 0), data: gzipEmpty(mtime: 1))
        try w.write(TileID(z: 1, x: 0, y: 0), data: gzipEmpty(mtime: 2))
        try w.write(TileID(z: 1, x: 1, y: 0), data: gzipEmpty(mtime: 2))
        try w.write(TileID(z: 1, x: 1, y: 1), data: gzipEmpty(mtime: 2))
        XCTAssertEqual(w.uniqueTiles, 2)
        try w.finish(metadata: metadata)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.mbtiles"], "temporary file renamed away")

        let db = try SQLiteDatabase(path: path, readOnly: true)
        XCTAssertEqual(try db.scalarInt("PRAGMA application_id"), 0x4d504258)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM images"), 2)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM map"), 4)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM tiles"), 4)
        // TMS rows: XYZ 1/1/0 (north) is row 1.
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM tiles WHERE zoom_level = 1 AND tile_column = 1 AND tile_row = 1"), 1)

        let r = try MBTilesReader(path: path)
        XCTAssertEqual(try r.validate(), [])
        XCTAssertEqual(try r.metadata()["format"], "pbf")
        XCTAssertEqual(try r.tile(TileID(z: 1, x: 1, y: 0)), gzipEmpty(mtime: 2))
        XCTAssertEqual(try r.tile(TileID(z: 0, x: 0, y: 0)), gzipEmpty(mtime: 1))
        XCTAssertNil(try r.tile(TileID(z: 1, x: 0, y: 1)))
        XCTAssertEqual(try r.tileCount(), 4)
    }

    func testReplacesExistingFileAtomicallyAndAbortLeavesItAlone() throws {
        let path = dir + "/out.mbtiles"
        let first = try MBTilesWriter(path: path)
        try first.write(TileID(z: 0, x: 0, y: 0), data: gzipEmpty(mtime: 1))
        try first.finish(metadata: metadata)
        let second = try MBTilesWriter(path: path)
        try second.write(TileID(z: 0, x: 0, y: 0), data: gzipEmpty(mtime: 9))
        second.abort()
        XCTAssertEqual(try MBTilesReader(path: path).tile(TileID(z: 0, x: 0, y: 0)), gzipEmpty(mtime: 1), "aborted write leaves the old file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.mbtiles"])
        let third = try MBTilesWriter(path: path)
        try third.write(TileID(z: 0, x: 0, y: 0), data: gzipEmpty(mtime: 7))
        try third.finish(metadata: metadata)
        XCTAssertEqual(try MBTilesReader(path: path).tile(TileID(z: 0, x: 0, y: 0)), gzipEmpty(mtime: 7))
    }

    func testSelfCheckRefusesMissingRequiredMetadata() throws {
        let path = dir + "/bad.mbtiles"
        let w = try MBTilesWriter(path: path)
        try w.write(TileID(z: 0, x: 0, y: 0), data: [1, 2, 3])
        XCTAssertThrowsError(try w.finish(metadata: [("format", "pbf")])) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("no name row"), text)
            XCTAssertTrue(text.contains("not gzip"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "temporary file removed")
    }

    func testReaderRejectsNonMBTiles() throws {
        let path = dir + "/plain.db"
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE x (a)")
        XCTAssertThrowsError(try MBTilesReader(path: path))
    }
}
