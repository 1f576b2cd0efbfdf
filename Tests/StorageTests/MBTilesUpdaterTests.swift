import Foundation
import GeoModel
@testable import Storage
import XCTest

final class MBTilesUpdaterTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mbtiles-updater-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func row(_ id: TileID, size: Int) -> TileLayerRecord {
        TileLayerRecord(tile: id, layer: 0, size: size, points: 1, lines: 0, polygons: 0, hash: UInt64.max - 7, requiredSize: nil, dropped: 0)
    }

    /// A real gzip member of empty content; `mtime` varies the header so blobs differ.
    private func tile(_ mtime: UInt8) -> [UInt8] {
        [0x1F, 0x8B, 0x08, 0x00, mtime, 0, 0, 0, 0x00, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
    }

    private func write(_ path: String, state: Bool) throws {
        let w = try MBTilesWriter(path: path)
        try w.write(TileID(z: 0, x: 0, y: 0), data: tile(1))
        try w.write(TileID(z: 1, x: 1, y: 0), data: tile(2))
        if state {
            try w.writeIncrementalState(rows: [row(TileID(z: 0, x: 0, y: 0), size: 3), row(TileID(z: 1, x: 1, y: 0), size: 2)], state: ["tiling": [9, 9]])
        }
        try w.finish(metadata: [("name", "t"), ("format", "pbf"), ("minzoom", "0"), ("maxzoom", "1"), ("bounds", "0,0,1,1"),
                                ("json", #"{"vector_layers":[{"id":"l","fields":{}}]}"#)])
    }

    func testUpdatesTilesRowsMetadataAndStateInOneTransaction() throws {
        let path = dir + "/t.mbtiles"
        try write(path, state: true)
        let u = try XCTUnwrap(try MBTilesUpdater(path: path))
        XCTAssertEqual(try u.state("tiling"), [9, 9])
        XCTAssertEqual(try u.rows(TileID(z: 1, x: 1, y: 0)), [row(TileID(z: 1, x: 1, y: 0), size: 2)])
        XCTAssertEqual(try u.tileCount(), 2)

        // Taken back: nothing changes.
        try u.begin()
        try u.replaceTiles([(TileID(z: 1, x: 1, y: 0), tile(7))])
        u.rollback()
        XCTAssertEqual(try MBTilesReader(path: path).tile(TileID(z: 1, x: 1, y: 0)), tile(2))

        try u.begin()
        try u.replaceTiles([(TileID(z: 1, x: 1, y: 0), tile(7)), (TileID(z: 1, x: 0, y: 1), tile(8))])
        try u.replaceRows(of: [TileID(z: 1, x: 1, y: 0), TileID(z: 1, x: 0, y: 1)],
                          with: [row(TileID(z: 1, x: 1, y: 0), size: 30), row(TileID(z: 1, x: 0, y: 1), size: 1)])
        try u.setMetadata([("bounds", "-1,-1,1,1")])
        try u.setState("tiling", [1])
        var order: [TileID] = []
        try u.forEachRow { order.append($0.tile) }
        XCTAssertEqual(order, [TileID(z: 0, x: 0, y: 0), TileID(z: 1, x: 0, y: 1), TileID(z: 1, x: 1, y: 0)], "rows come in tile order")
        try u.commit()

        let r = try MBTilesReader(path: path)
        XCTAssertEqual(try r.tile(TileID(z: 1, x: 1, y: 0)), tile(7))
        XCTAssertEqual(try r.tile(TileID(z: 1, x: 0, y: 1)), tile(8))
        XCTAssertEqual(try r.metadata()["bounds"], "-1,-1,1,1")
        XCTAssertEqual(try r.validate(), [])
        XCTAssertEqual(try u.rows(TileID(z: 1, x: 1, y: 0)).first?.size, 30)
        XCTAssertEqual(try u.state("tiling"), [1])
        let db = try SQLiteDatabase(path: path, readOnly: true, create: false)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM images"), 3, "the replaced tile's image was deleted")
    }

    /// The tile server keeps its readers open between requests: a reader that has served a tile
    /// must hold no lock, or the update's commit waits out the busy timeout and fails.
    func testAnOpenReaderThatServedATileDoesNotBlockTheCommit() throws {
        let path = dir + "/t.mbtiles"
        try write(path, state: true)
        let reader = try MBTilesReader(path: path)
        XCTAssertEqual(try reader.tile(TileID(z: 1, x: 1, y: 0)), tile(2))
        let u = try XCTUnwrap(try MBTilesUpdater(path: path))
        try u.begin()
        try u.replaceTiles([(TileID(z: 1, x: 1, y: 0), tile(7))])
        try u.commit() // SQLITE_BUSY after the 5 s busy timeout while the reader holds its lock
        XCTAssertEqual(try reader.tile(TileID(z: 1, x: 1, y: 0)), tile(7), "the same reader sees the update")
    }

    func testFilesWithoutStateAreNotUpdated() throws {
        let path = dir + "/plain.mbtiles"
        try write(path, state: false)
        XCTAssertNil(try MBTilesUpdater(path: path))
        XCTAssertThrowsError(try MBTilesUpdater(path: dir + "/missing.mbtiles"))
    }
}
