import GeoModel
@testable import Rendering
import Tiling
import XCTest

final class UTFGridTests: XCTestCase {
    func testKeyEncodingSkipsQuoteAndBackslash() {
        XCTAssertEqual(UTFGridPainter.encode(0), " ")
        XCTAssertEqual(UTFGridPainter.encode(1), "!")
        XCTAssertEqual(UTFGridPainter.encode(2), "#", "34 (\") is skipped")
        XCTAssertEqual(UTFGridPainter.encode(58), "[")
        XCTAssertEqual(UTFGridPainter.encode(59), "]", "92 (\\\\) is skipped")
    }

    func testTopmostFeatureOwnsTheCell() throws {
        var layer = MVTLayerBuilder(name: "areas")
        // Two overlapping squares; the second is drawn later and wins where they overlap.
        layer.addFeature(id: 7, type: .polygon, geometry: MVTGeometry.encodePolygons([[[TilePoint(x: 0, y: 0), TilePoint(x: 3000, y: 0), TilePoint(x: 3000, y: 3000), TilePoint(x: 0, y: 3000)]]]),
                         properties: [("name", .string("first")), ("n", .uint(1))])
        layer.addFeature(id: 9, type: .polygon, geometry: MVTGeometry.encodePolygons([[[TilePoint(x: 2048, y: 2048), TilePoint(x: 4096, y: 2048), TilePoint(x: 4096, y: 4096), TilePoint(x: 2048, y: 4096)]]]),
                         properties: [("name", .string("second")), ("n", .uint(2))])
        let tile = try MVTTile(decoding: MVTTileEncoder.encode([layer]))
        let grid = UTFGridPainter(size: 64, fields: ["name"])
        TileRenderer().draw([PlacedTile(tile: tile)], with: grid, tileSize: 64, pixelRatio: 0.25)
        let json = grid.json
        let rows = json["grid"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(rows.count, 64)
        XCTAssertEqual(json["keys"], .array([.string(""), .string("7"), .string("9")]))
        func cell(_ x: Int, _ y: Int) -> Character { Array(rows[y])[x] }
        XCTAssertEqual(cell(10, 10), "!", "only the first square")
        XCTAssertEqual(cell(40, 40), "#", "the later square is on top")
        XCTAssertEqual(cell(60, 5), " ", "nothing there")
        XCTAssertEqual(json["data"]?["7"], ["name": "first"], "only the requested fields")
    }
}
