import API
import Daemon
import Foundation
import GeoModel
import Rendering
import Storage
import Tiling
import XCTest

/// Pixel check against an independent rasteriser: the same tiles, colours and widths drawn by
/// Mapnik (Debian python3-mapnik, AGG) and by tiledrop must agree — mean absolute error
/// ≤ 4/255 per channel and ≥ 97 % of pixels within 24, over white — at z0–6 (GPS data also
/// at z8–12) and at @2x.
///
/// Mapnik draws the features of each tile as decoded from the tileset (so the check measures
/// the renderers, not the tiler), styled by the rules README "Rendering" documents; the
/// script is `Mapnik/render_compare.py`.
final class MapnikComparisonTests: XCTestCase {
    static let python = "/usr/bin/python3"

    private func requireTools() throws {
        guard FileManager.default.isExecutableFile(atPath: MapnikComparisonTests.python),
              try DaemonHarness.runTool(MapnikComparisonTests.python, ["-c", "import mapnik, PIL"]).status == 0 else {
            throw XCTSkip("python3-mapnik or python3-pil is not installed (apt-get install python3-mapnik python3-pil); the Mapnik pixel check did not run")
        }
    }

    private func fixture(_ path: String) throws -> String {
        let full = DaemonHarness.fixtures + "/" + path
        guard FileManager.default.fileExists(atPath: full) else { throw XCTSkip("fixture \(full) is missing (set TILEDROP_FIXTURES); the Mapnik pixel check did not run") }
        return full
    }

    struct Result {
        var set: String
        var tile: String
        var mae: [Double]
        var within: Double
    }

    /// Publishes `layers` (name → source file) at z0–6, renders `tiles` with tiledrop and Mapnik, and returns the comparisons.
    private func compare(set: String, layers: [(String, String)], maxzoom: Int = 6, tiles: [(TileID, Int)], dir: String) throws -> [Result] {
        let recipeLayers = layers.map { "\"\($0.0)\": {\"source\": \"\($0.1)\", \"minzoom\": 0, \"maxzoom\": \(maxzoom)}" }.joined(separator: ", ")
        let recipe = try Recipe(json: try JSONParser.parse("{\"version\": 1, \"layers\": {\(recipeLayers)}}"))
        let mbtiles = dir + "/\(set).mbtiles"
        _ = try Publisher(name: set).publish(recipe: recipe, recipeDirectory: dir, resolveSource: { _ in ArrayFeatureSource([]) }, outputPath: mbtiles)
        let rasterizer = try TilesetRasterizer(path: mbtiles)
        let reader = try MBTilesReader(path: mbtiles)
        func geojson(_ id: TileID) throws -> String? {
            guard let stored = try reader.tile(id) else { return nil }
            let tile = try MVTTile(decoding: Gzip.isGzip(stored) ? try Gzip.decompress(stored) : stored)
            let path = dir + "/\(set)-\(id.z)-\(id.x)-\(id.y).geojson"
            try JSONWriter.string(MVTGeoJSON.featureCollection(tile, id: id)).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        var jobTiles: [JSONValue] = []
        for (id, scale) in tiles {
            guard let center = try geojson(id), let canvas = try rasterizer.render(id, pixelRatio: scale) else { continue }
            var neighbours: [JSONValue] = []
            let n = 1 << id.z
            for dy in -1...1 {
                for dx in -1...1 where (dx != 0 || dy != 0) && id.y + dy >= 0 && id.y + dy < n && n > 1 {
                    let nid = TileID(z: id.z, x: ((id.x + dx) % n + n) % n, y: id.y + dy)
                    // Wrapped neighbours would need shifted longitudes; the chosen tiles do not wrap.
                    guard id.x + dx >= 0, id.x + dx < n, let p = try geojson(nid) else { continue }
                    neighbours.append([.string(p), .int(Int64(nid.z)), .int(Int64(nid.x)), .int(Int64(nid.y))])
                }
            }
            let ours = dir + "/ours-\(set)-\(id.z)-\(id.x)-\(id.y)@\(scale)x.png"
            try Data(RasterFormat.png.encode(canvas)).write(to: URL(fileURLWithPath: ours))
            jobTiles.append(["z": .int(Int64(id.z)), "x": .int(Int64(id.x)), "y": .int(Int64(id.y)), "scale": .int(Int64(scale)), "set": .string(set),
                             "center": .string(center), "neighbours": .array(neighbours), "ours": .string(ours),
                             "mapnik": .string(dir + "/mapnik-\(set)-\(id.z)-\(id.x)-\(id.y)@\(scale)x.png")])
        }
        XCTAssertFalse(jobTiles.isEmpty, "\(set): no tiles with data")
        let order = (try JSONParser.parse(reader.metadata()["json"] ?? "{}"))["vector_layers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        let job: JSONValue = [
            "palette": .array(StyleSheet.defaultPalette.map { .string($0.description) }),
            "defaults": ["fill_opacity": .double(StyleSheet.defaultFillOpacity), "polygon_stroke_width": .double(StyleSheet.defaultPolygonStrokeWidth),
                         "line_width": .double(StyleSheet.defaultLineWidth), "marker_outline": .double(FeatureStyle().markerOutlineWidth),
                         "marker_diameters": .object(JSONObject(MarkerSize.allCases.map { JSONObject.Member(key: $0.rawValue, value: .double($0.diameter)) }))],
            "layers": .array(order.map { .string($0) }),
            "tiles": .array(jobTiles),
        ]
        let jobPath = dir + "/\(set)-job.json"
        try JSONWriter.string(job).write(toFile: jobPath, atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Mapnik/render_compare.py").path
        let run = try DaemonHarness.runTool(MapnikComparisonTests.python, [script, jobPath])
        XCTAssertEqual(run.status, 0, "Mapnik script failed: \(run.output)")
        return run.output.split(separator: "\n").compactMap { line -> Result? in
            guard let v = try? JSONParser.parse(String(line)), let t = v["tile"]?.stringValue else { return nil }
            return Result(set: set, tile: t, mae: v["mae"]?.arrayValue?.compactMap(\.doubleValue) ?? [], within: v["within24"]?.doubleValue ?? 0)
        }
    }

    func testTilesMatchMapnik() throws {
        try requireTools()
        let countries = try fixture("real/ne_50m_admin_0_countries.json")
        let rivers = try fixture("real/ne_50m_rivers_lake_centerlines.json")
        let gpx = try fixture("real/mtk_logger_m241_multiple_tracks.gpx")
        let kml = try fixture("real/27GLQKF3.igc.kml")
        let styled = try fixture("togeojson/input/style.gpx")
        let waypoints = try fixture("togeojson/input/wpt.gpx")
        let dir = NSTemporaryDirectory() + "tiledrop-mapnik-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        var results: [Result] = []
        let world: [(TileID, Int)] = [
            (TileID(z: 0, x: 0, y: 0), 1), (TileID(z: 0, x: 0, y: 0), 2), (TileID(z: 1, x: 1, y: 0), 1), (TileID(z: 2, x: 2, y: 1), 1),
            (TileID(z: 2, x: 1, y: 2), 2), (TileID(z: 3, x: 4, y: 2), 1), (TileID(z: 4, x: 8, y: 5), 1), (TileID(z: 4, x: 9, y: 5), 2),
            (TileID(z: 5, x: 17, y: 10), 1), (TileID(z: 6, x: 33, y: 21), 1), (TileID(z: 6, x: 34, y: 22), 2),
        ]
        results += try compare(set: "naturalearth", layers: [("countries", countries), ("rivers", rivers)], tiles: world, dir: dir)
        // GPS tracks and waypoints: the tiles holding the data at z0–6, and at z8–12 where a
        // track is more than a few pixels long.
        func tilesAt(lon: Double, lat: Double) -> [(TileID, Int)] {
            let p = WebMercator.project(lon: lon, lat: lat)
            return (Array(0...6) + [8, 10, 11, 12]).flatMap { z -> [(TileID, Int)] in
                let id = TileID(z: z, x: Int(p.x * Double(1 << z)), y: Int(p.y * Double(1 << z)))
                return z % 3 == 2 ? [(id, 1), (id, 2)] : [(id, 1)]
            }
        }
        results += try compare(set: "gpx", layers: [("tracks", gpx), ("waypoints", waypoints)], maxzoom: 12, tiles: tilesAt(lon: 6.68, lat: 51.19), dir: dir)
        results += try compare(set: "kml", layers: [("flight", kml), ("styled", styled)], maxzoom: 12, tiles: tilesAt(lon: -106.45, lat: 39.0), dir: dir)

        XCTAssertGreaterThan(results.count, 20, "every tile compared")
        var worstMAE = 0.0, worstWithin = 1.0
        for r in results {
            let mae = r.mae.max() ?? 99
            worstMAE = max(worstMAE, mae)
            worstWithin = min(worstWithin, r.within)
            print(String(format: "mapnik-compare %@ %@: MAE %.2f %.2f %.2f, within 24: %.2f %%", r.set, r.tile, r.mae[0], r.mae[1], r.mae[2], r.within * 100))
            XCTAssertLessThanOrEqual(mae, 4.0, "\(r.set) \(r.tile): mean absolute error \(r.mae) against Mapnik")
            XCTAssertGreaterThanOrEqual(r.within, 0.97, "\(r.set) \(r.tile): only \(r.within * 100) % of pixels within 24 of Mapnik")
        }
        print(String(format: "mapnik-compare: %d tiles, worst channel MAE %.2f, worst share within 24 %.2f %%", results.count, worstMAE, worstWithin * 100))
    }
}
