import API
import Daemon
import Foundation
import GeoModel
import Rendering
import XCTest

/// `tiledrop render` and `tiledrop preview` through the real binary.
final class RenderCommandTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tiledrop-render-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir + "/root/tiles", withIntermediateDirectories: true)
        try """
            {"type": "Feature", "properties": {"fill": "#ff8800"}, "geometry": {"type": "Polygon", "coordinates": [[[-30, -20], [30, -20], [30, 25], [-30, 25], [-30, -20]]]}}
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[-50, 0], [50, 10]]}}
            {"type": "Feature", "properties": {"marker-size": "small"}, "geometry": {"type": "Point", "coordinates": [5, 5]}}
            """.write(toFile: dir + "/shapes.geojsonl", atomically: true, encoding: .utf8)
        try #"{"version": 1, "layers": {"shapes": {"source": "shapes.geojsonl", "minzoom": 0, "maxzoom": 4}}}"#
            .write(toFile: dir + "/recipe.json", atomically: true, encoding: .utf8)
        let p = try DaemonHarness.run(["publish", dir + "/recipe.json", "-o", dir + "/root/tiles/shapes.mbtiles"])
        XCTAssertEqual(p.status, 0, p.stderr)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func pngSize(_ path: String) throws -> (Int, Int) {
        let d = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(d.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        func u32(_ k: Int) -> Int { Int(d[k]) << 24 | Int(d[k + 1]) << 16 | Int(d[k + 2]) << 8 | Int(d[k + 3]) }
        return (u32(16), u32(20))
    }

    func testRenderWritesTheTileInEveryFormat() throws {
        let mbtiles = dir + "/root/tiles/shapes.mbtiles"
        for (address, magic) in [("2/1/1.png", [0x89, 0x50]), ("2/1/1@2x.png64", [0x89, 0x50]), ("1/0/0.jpg90", [0xFF, 0xD8]), ("3/3/3.webp", [0x52, 0x49])] {
            let out = dir + "/tile-" + address.replacingOccurrences(of: "/", with: "_")
            let r = try DaemonHarness.run(["render", mbtiles, address, "-o", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(Array([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))).prefix(2)), magic.map(UInt8.init), address)
        }
        XCTAssertEqual(try pngSize(dir + "/tile-2_1_1@2x.png64").0, 512)
        // The binary writes what the library renders, byte for byte.
        let canvas = try XCTUnwrap(try TilesetRasterizer(path: mbtiles).render(TileID(z: 2, x: 1, y: 1)))
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/tile-2_1_1.png"))), RasterFormat.png.encode(canvas))
        // A tileset name resolves in the root's tiles/ folder.
        let byName = try DaemonHarness.run(["render", "shapes", "2/1/1.png", "-o", dir + "/byname.png", "--root", dir + "/root"])
        XCTAssertEqual(byName.status, 0, byName.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/byname.png")), try Data(contentsOf: URL(fileURLWithPath: dir + "/tile-2_1_1.png")))
    }

    func testRenderRejectsBadAddressesWithTheAPIsWording() throws {
        let mbtiles = dir + "/root/tiles/shapes.mbtiles"
        let cases: [(String, String)] = [
            ("31/0/0.png", "Zoom level must be between 0-30."), ("1/0/0.png512", "Invalid quality value 512 for raster format png"),
            ("1/0/0.jpg101", "Invalid quality value 101 for raster format jpg"), ("1/0/0@3x.png", "only @2x"), ("1/2/0.png", "Tile not found"),
        ]
        for (address, message) in cases {
            let r = try DaemonHarness.run(["render", mbtiles, address, "-o", dir + "/x.png"])
            XCTAssertEqual(r.status, 64, address)
            XCTAssertTrue(r.stderr.contains(message), "\(address): \(r.stderr)")
        }
        let missing = try DaemonHarness.run(["render", dir + "/nope.mbtiles", "0/0/0.png", "-o", dir + "/x.png"])
        XCTAssertEqual(missing.status, 66)
        XCTAssertTrue(missing.stderr.contains("nope.mbtiles"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.png"))
    }

    func testPreviewFitsTheData() throws {
        let out = dir + "/preview.png"
        let r = try DaemonHarness.run(["preview", "shapes", "-o", out, "--root", dir + "/root"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let size = try pngSize(out)
        XCTAssertEqual(size.0, 1200)
        XCTAssertEqual(size.1, 800)
        let small = try DaemonHarness.run(["preview", dir + "/root/tiles/shapes.mbtiles", "-o", dir + "/p.png", "--size", "300x200"])
        XCTAssertEqual(small.status, 0, small.stderr)
        XCTAssertEqual(try pngSize(dir + "/p.png").0, 300)
        XCTAssertEqual(try DaemonHarness.run(["preview", "shapes", "-o", out, "--size", "0x5"]).status, 64)
    }

    /// After incremental publishes the preview is drawn at most once per `preview_interval`:
    /// appends within it share one deferred picture, which shows all of them.
    func testPreviewsAfterAppendsAreDeferredAndCoalesced() throws {
        let harness = try DaemonHarness(extraConfig: "preview_interval = 4")
        defer { harness.cleanUp() }
        try harness.start()
        func drop(_ n: Int) throws {
            let point = #"{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [\#(n * 10), \#(n * 5)]}}"#
            try harness.drop(Data((point + "\n").utf8), map: "spots", name: "p\(n).geojsonl")
        }
        func rendered() -> Int { harness.log.components(separatedBy: "map spots: preview").count - 1 }
        try drop(0)
        XCTAssertTrue(waitUntil(timeout: 60) { rendered() == 1 }, harness.log)
        try drop(1)
        XCTAssertTrue(waitUntil(timeout: 60) { harness.log.contains("tileset spots: map preview deferred") }, harness.log)
        try drop(2)
        XCTAssertTrue(waitUntil(timeout: 60) { harness.log.components(separatedBy: "feature(s) incrementally").count - 1 == 2 }, harness.log)
        XCTAssertEqual(rendered(), 1, "no picture within the interval: \(harness.log)")
        XCTAssertTrue(waitUntil(timeout: 60) { rendered() == 2 }, harness.log)
        XCTAssertEqual(harness.log.components(separatedBy: "map preview deferred").count - 1, 1, "the second append joined the deferred picture: \(harness.log)")
        XCTAssertEqual(harness.stop(), 0)
    }

    func testDaemonRendersTheMapPreviewAfterEachPublish() throws {
        let harness = try DaemonHarness(extraConfig: "preview_interval = 0")
        defer { harness.cleanUp() }
        try harness.start()
        let square = ##"{"type": "Feature", "properties": {"fill": "#00aa00"}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}}"##
        try harness.drop(Data((square + "\n").utf8), map: "parks", name: "a.geojsonl")
        let preview = harness.root + "/previews/parks.png"
        XCTAssertTrue(waitUntil(timeout: 60) { FileManager.default.fileExists(atPath: preview) }, "no preview; log:\n\(harness.log)")
        XCTAssertEqual(try pngSize(preview).0, 1200)
        let first = try Data(contentsOf: URL(fileURLWithPath: preview))
        // A second drop republishes the map; the picture is replaced (temp + rename, no leftovers).
        let line = #"{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[-20, -5], [30, 20]]}}"#
        try harness.drop(Data((line + "\n").utf8), map: "parks", name: "b.geojsonl")
        XCTAssertTrue(waitUntil(timeout: 60) { (try? Data(contentsOf: URL(fileURLWithPath: preview))) != first }, "preview not refreshed; log:\n\(harness.log)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.root + "/previews"), ["parks.png"])
        XCTAssertEqual(harness.stop(), 0)
    }
}
