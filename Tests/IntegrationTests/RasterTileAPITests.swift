import Foundation
import GeoModel
import Rendering
import Storage
import SystemSupport
import XCTest

/// The Raster Tiles API over the daemon's socket: formats, errors, composites, the cache.
final class RasterTileAPITests: XCTestCase {
    private func get(_ harness: DaemonHarness, _ path: String) throws -> (status: Int, headers: String, body: [UInt8]) {
        try harness.http("GET", path)
    }

    private func message(_ body: [UInt8]) -> String { (try? JSONParser.parse(body))?["message"]?.stringValue ?? String(decoding: body, as: UTF8.self) }

    func testRasterTilesFormatsErrorsAndCache() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        let square = ##"{"type": "Feature", "properties": {"fill": "#ff0000", "fill-opacity": 1}, "geometry": {"type": "Polygon", "coordinates": [[[-60, -30], [60, -30], [60, 30], [-60, 30], [-60, -30]]]}}"##
        try harness.drop(Data((square + "\n").utf8), map: "boxes", name: "a.geojsonl")
        let line = ##"{"type": "Feature", "properties": {"stroke": "#0000ff", "stroke-width": 8}, "geometry": {"type": "LineString", "coordinates": [[-170, 0], [170, 0]]}}"##
        try harness.drop(Data((line + "\n").utf8), map: "lines", name: "b.geojsonl")
        XCTAssertTrue(waitUntil(timeout: 60) {
            FileManager.default.fileExists(atPath: harness.root + "/tiles/boxes.mbtiles") && FileManager.default.fileExists(atPath: harness.root + "/tiles/lines.mbtiles")
        }, harness.log)

        let magic: [String: [UInt8]] = ["png": [0x89, 0x50], "png64": [0x89, 0x50], "jpg": [0xFF, 0xD8], "jpg90": [0xFF, 0xD8], "webp": [0x52, 0x49]]
        for (format, prefix) in magic {
            let r = try get(harness, "/v4/boxes/1/0/1.\(format)")
            XCTAssertEqual(r.status, 200, "\(format): \(message(r.body))")
            XCTAssertEqual(Array(r.body.prefix(2)), prefix, format)
            XCTAssertTrue(r.headers.contains("max-age=43200"), r.headers)
        }
        let png = try get(harness, "/v4/boxes/1/0/1@2x.png")
        XCTAssertEqual(png.status, 200)
        XCTAssertEqual(Int(png.body[16]) << 24 | Int(png.body[17]) << 16 | Int(png.body[18]) << 8 | Int(png.body[19]), 512, "@2x is 512 px wide")
        XCTAssertTrue(try get(harness, "/v4/boxes/1/0/1.png").headers.contains("X-Tiledrop-Cache: HIT"), "the second request is served from the cache")

        // A composite draws both tilesets; it differs from either alone.
        let both = try get(harness, "/v4/boxes,lines/1/0/1.png")
        XCTAssertEqual(both.status, 200, message(both.body))
        XCTAssertNotEqual(both.body, try get(harness, "/v4/boxes/1/0/1.png").body)

        let errors: [(String, Int, String)] = [
            ("/v4/boxes/31/0/0.png", 422, "Zoom level must be between 0-30."),
            ("/v4/boxes/1/0/0.png512", 422, "Invalid quality value 512 for raster format png"),
            ("/v4/boxes/1/0/0.jpg101", 422, "Invalid quality value 101 for raster format jpg"),
            ("/v4/boxes/1/0/0@3x.png", 404, "Tile not found"),
            ("/v4/boxes/1/2/0.png", 404, "Tile not found"),
            ("/v4/nope/1/0/0.png", 404, "Tileset nope does not exist"),
            ("/v4/" + Array(repeating: "boxes", count: 16).joined(separator: ",") + "/1/0/0.png", 422, "at most 15"),
        ]
        for (path, status, text) in errors {
            let r = try get(harness, path)
            XCTAssertEqual(r.status, status, path)
            XCTAssertTrue(message(r.body).contains(text), "\(path): \(message(r.body))")
        }
        XCTAssertEqual(try get(harness, "/v4/" + Array(repeating: "boxes", count: 15).joined(separator: ",") + "/1/0/0.png").status, 200)

        // UTFGrid from the same geometry: 64 rows of 64 cells, the square's key and its fill.
        let grid = try get(harness, "/v4/boxes/1/0/1.grid.json?fields=fill")
        XCTAssertEqual(grid.status, 200, message(grid.body))
        let g = try JSONParser.parse(grid.body)
        let rows = g["grid"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(rows.count, 64)
        XCTAssertTrue(rows.allSatisfy { $0.unicodeScalars.count == 64 })
        XCTAssertEqual(g["keys"]?.arrayValue?.count, 2, "the empty key and the square")
        XCTAssertEqual(rows[0].first, " ", "no feature at lon -180, lat 0 (top-left cell)")
        XCTAssertEqual(rows[0].last, "!", "the square covers lon 0, lat 0 (top-right cell)")
        XCTAssertEqual(rows[63].last, " ", "nor at lon 0, lat -85 (bottom-right cell)")
        let key = try XCTUnwrap(g["keys"]?.arrayValue?.last?.stringValue)
        XCTAssertEqual(g["data"]?[key]?["fill"]?.stringValue, "#ff0000")
        XCTAssertEqual(try get(harness, "/v4/boxes/31/0/0.grid.json").status, 422)
        XCTAssertEqual(try get(harness, "/v4/boxes/1/5/0.grid.json").status, 404)

        // Republishing swaps the file: the cached tile is not served again.
        let before = try get(harness, "/v4/boxes/2/1/1.png").body
        let moved = ##"{"type": "Feature", "properties": {"fill": "#00ff00", "fill-opacity": 1}, "geometry": {"type": "Polygon", "coordinates": [[[-100, -50], [-80, -50], [-80, 50], [-100, 50], [-100, -50]]]}}"##
        try harness.drop(Data((moved + "\n").utf8), map: "boxes", name: "c.geojsonl")
        XCTAssertTrue(waitUntil(timeout: 60) { (try? self.get(harness, "/v4/boxes/2/1/1.png").body) != before }, "new tiles after republish; log:\n\(harness.log)")
        XCTAssertEqual(harness.stop(), 0)
    }

    /// A dropped MBTiles of images (MBTiles `format` png) is installed and served as stored:
    /// the same bytes, each with the Content-Type of its own signature; TileJSON names the
    /// format and image URLs; what cannot be done with stored images gets a clear refusal.
    func testRasterContainerIsServedAsStored() throws {
        let harness = try DaemonHarness(extraConfig: "owner = alice")
        defer { harness.cleanUp() }
        try harness.start()
        let work = harness.root + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let painter = Painter(canvas: Canvas(width: 256, height: 256, background: .white))
        painter.fill(rings: [[32, 32, 224, 32, 224, 224, 32, 224]], color: RenderColor(r: 200, g: 30, b: 30))
        let png = RasterFormat.png.encode(painter.canvas), jpeg = RasterFormat.jpeg(quality: 80).encode(painter.canvas)
        let writer = try MBTilesWriter(path: work + "/photo.mbtiles")
        try writer.write(TileID(z: 0, x: 0, y: 0), data: png)
        try writer.write(TileID(z: 1, x: 1, y: 0), data: jpeg)
        try writer.finish(metadata: [("name", "photo"), ("format", "png"), ("minzoom", "0"), ("maxzoom", "1"), ("bounds", "-180,-85,180,85")])
        try harness.drop(try Data(contentsOf: URL(fileURLWithPath: work + "/photo.mbtiles")), map: "photo", name: "photo.mbtiles")
        XCTAssertTrue(waitUntil(timeout: 60) { FileManager.default.fileExists(atPath: harness.root + "/tiles/photo.mbtiles") }, harness.log)

        for path in ["/v4/photo/0/0/0.png", "/v4/alice.photo/0/0/0.png", "/v4/photo/0/0/0.jpg90"] {
            let r = try get(harness, path)
            XCTAssertEqual(r.status, 200, "\(path): \(message(r.body))")
            XCTAssertEqual(r.body, png, "\(path) answers the stored bytes")
            XCTAssertTrue(r.headers.contains("Content-Type: image/png"), r.headers)
            XCTAssertTrue(r.headers.contains("max-age=43200"), r.headers)
        }
        let j = try get(harness, "/v4/photo/1/1/0.png")
        XCTAssertEqual(j.body, jpeg)
        XCTAssertTrue(j.headers.contains("Content-Type: image/jpeg"), "the bytes' own type wins over the metadata: \(j.headers)")

        let refusals: [(String, Int, String)] = [
            ("/v4/photo/1/0/0.png", 404, "Tile not found"),
            ("/v4/photo/0/0/0@2x.png", 404, "no @2x"),
            ("/v4/photo,photo/0/0/0.png", 422, "cannot be composited"),
            ("/v4/photo/0/0/0.grid.json", 404, "no UTFGrid"),
            ("/v4/alice.photo/0/0/0.mvt", 404, "request /v4/alice.photo/{z}/{x}/{y}.png"),
            ("/v4/alice.photo,alice.photo.json", 422, "cannot include"),
        ]
        for (path, status, text) in refusals {
            let r = try get(harness, path)
            XCTAssertEqual(r.status, status, path)
            XCTAssertTrue(message(r.body).contains(text), "\(path): \(message(r.body))")
        }

        let tilejson = try JSONParser.parse(try get(harness, "/v4/alice.photo.json").body)
        XCTAssertEqual(tilejson["format"]?.stringValue, "png")
        XCTAssertEqual(tilejson["tiles"]?.arrayValue?.first?.stringValue?.hasSuffix("/v4/alice.photo/{z}/{x}/{y}.png"), true, "\(tilejson)")
        XCTAssertNil(tilejson["vector_layers"], "a raster TileJSON has no vector_layers")
        XCTAssertEqual(harness.stop(), 0)
    }
}
