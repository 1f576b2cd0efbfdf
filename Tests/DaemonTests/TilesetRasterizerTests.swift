import Daemon
import Foundation
import GeoModel
import Rendering
import Tiling
import XCTest

/// TilesetRasterizer: a published MBTiles file drawn as raster tiles and a preview.
final class TilesetRasterizerTests: XCTestCase {
    private var dir = ""
    private var tileset = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "rasterizer-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A styled square, a line crossing the z1 tile edge at lon 0, and a point right at that
        // edge (its marker must appear whole across both tiles).
        let features = """
            {"type": "Feature", "properties": {"fill": "#00ff00", "fill-opacity": 1, "stroke-width": 0}, "geometry": {"type": "Polygon", "coordinates": [[[-100, 10], [-60, 10], [-60, 40], [-100, 40], [-100, 10]]]}}
            {"type": "Feature", "properties": {"stroke": "#0000ff", "stroke-width": 4}, "geometry": {"type": "LineString", "coordinates": [[-40, 30], [40, 30]]}}
            {"type": "Feature", "properties": {"marker-color": "#ff0000", "marker-size": "large"}, "geometry": {"type": "Point", "coordinates": [0.05, 20]}}
            """
        try features.write(toFile: dir + "/data.geojsonl", atomically: true, encoding: .utf8)
        let recipe = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"things": {"source": "data.geojsonl", "minzoom": 0, "maxzoom": 3}}}"#))
        tileset = dir + "/t.mbtiles"
        _ = try Publisher(name: "t").publish(recipe: recipe, recipeDirectory: dir, resolveSource: { _ in ArrayFeatureSource([]) }, outputPath: tileset)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func pixel(_ c: Canvas, _ x: Int, _ y: Int) -> [UInt8] { Array(c.pixels[(y * c.width + x) * 4..<(y * c.width + x) * 4 + 4]) }

    /// The pixel of a lon/lat in a tile canvas.
    private func position(_ lon: Double, _ lat: Double, tile: TileID, size: Int) -> (Int, Int) {
        let p = WebMercator.project(lon: lon, lat: lat)
        let n = Double(1 << tile.z)
        return (Int((p.x * n - Double(tile.x)) * Double(size)), Int((p.y * n - Double(tile.y)) * Double(size)))
    }

    func testStylesFromPropertiesAndMarkersAcrossTileEdges() throws {
        let r = try TilesetRasterizer(path: tileset)
        let west = try XCTUnwrap(r.render(TileID(z: 1, x: 0, y: 0)))
        let east = try XCTUnwrap(r.render(TileID(z: 1, x: 1, y: 0)))
        let (fx, fy) = position(-80, 25, tile: TileID(z: 1, x: 0, y: 0), size: 256)
        XCTAssertEqual(pixel(west, fx, fy), [0, 255, 0, 255], "simplestyle fill")
        let (lx, ly) = position(-20, 30, tile: TileID(z: 1, x: 0, y: 0), size: 256)
        XCTAssertEqual(pixel(west, lx, ly), [0, 0, 255, 255], "simplestyle stroke")
        // The marker (16 px, centred 0.04 px east of the edge) shows in both tiles, mirrored.
        let (_, my) = position(0.05, 20, tile: TileID(z: 1, x: 1, y: 0), size: 256)
        XCTAssertEqual(pixel(east, 3, my), [255, 0, 0, 255])
        XCTAssertEqual(pixel(west, 252, my), [255, 0, 0, 255], "the neighbour's marker reaches across the edge")
        XCTAssertEqual(pixel(west, 255, my - 20), [0, 0, 0, 0], "nothing outside the marker")
        // The line meets the edge at the same height from both sides.
        let (_, ey) = position(0, 30, tile: TileID(z: 1, x: 1, y: 0), size: 256)
        XCTAssertEqual(pixel(west, 255, ey), pixel(east, 0, ey))
        XCTAssertEqual(pixel(east, 0, ey), [0, 0, 255, 255])
    }

    func testTwiceTheResolutionIsTheSamePicture() throws {
        let r = try TilesetRasterizer(path: tileset)
        let one = try XCTUnwrap(r.render(TileID(z: 2, x: 1, y: 1)))
        let two = try XCTUnwrap(r.render(TileID(z: 2, x: 1, y: 1), pixelRatio: 2))
        XCTAssertEqual(two.width, 512)
        let reduced = two.downsampled(by: 2)
        var sum = 0
        for (a, b) in zip(one.pixels, reduced.pixels) { sum += abs(Int(a) - Int(b)) }
        XCTAssertLessThan(Double(sum) / Double(one.pixels.count), 2.0, "@2x reduced to 256 px matches the 1x tile")
        XCTAssertGreaterThan(one.pixels.filter { $0 != 0 }.count, 1000, "the tile is not empty")
    }

    func testOverzoomAndPreview() throws {
        let r = try TilesetRasterizer(path: tileset)
        // z5 is beyond maxzoom 3: drawn from the z3 ancestor, magnified.
        let t = TileID(z: 5, x: 8, y: 13)
        let (fx, fy) = position(-85, 25, tile: t, size: 256)
        let canvas = try XCTUnwrap(r.render(t))
        if (0..<256).contains(fx) && (0..<256).contains(fy) {
            XCTAssertEqual(pixel(canvas, fx, fy), [0, 255, 0, 255])
        } else {
            XCTFail("test tile \(t) does not contain the sample point (\(fx), \(fy))")
        }
        let preview = try r.preview(width: 300, height: 200)
        XCTAssertEqual(preview.width, 300)
        XCTAssertEqual(pixel(preview, 0, 0), [255, 255, 255, 255], "white background")
        XCTAssertTrue(stride(from: 0, to: preview.pixels.count, by: 4).contains { preview.pixels[$0] == 0 && preview.pixels[$0 + 1] == 255 && preview.pixels[$0 + 2] == 0 }, "the fill is in the preview")
        XCTAssertThrowsError(try r.preview(width: 0, height: 10))
        XCTAssertThrowsError(try TilesetRasterizer(path: dir + "/missing.mbtiles"))
    }
}
