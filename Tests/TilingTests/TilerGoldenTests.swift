import Foundation
import GeoModel
@testable import Tiling
import XCTest

/// Guards the tiler's output across rewrites: every case is tiled and each zoom's decoded
/// tiles are digested (layer names, extents, feature ids, types, geometry commands and
/// properties in order; not the bytes, so an equivalent encoding still matches), then
/// compared with `Golden/tiler-digests.json`, which was generated from the tiler before
/// the arena rewrite (issue 15).
///
/// Regenerate on purpose only: `TILEDROP_WRITE_GOLDEN=1 swift test --filter TilerGoldenTests`
/// (and say in the commit why the output changed). `TILEDROP_GOLDEN_DUMP=DIR` writes one
/// line per tile, to diff two versions tile by tile.
final class TilerGoldenTests: XCTestCase {
    static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/tiler-digests.json").path

    struct Case {
        var name: String
        var recipe: String
        var features: () throws -> [Feature]
        /// Tiler knobs that force the big-source paths (spill file, column bands).
        var configure: (inout Tiler) -> Void = { _ in }
        /// The golden entry to compare with (the case's own name by default).
        var golden: String?
        /// Checks that the knobs did force their path.
        var check: (TilingReport) -> Void = { _ in }
    }

    static func cases() -> [Case] {
        let pointsRecipe = """
            {"version": 1, "layers": {
              "capped": {"source": "s", "minzoom": 0, "maxzoom": 8, "tiles": {"layer_size": 2, "order": "rank"},
                         "features": {"attributes": {"set": {"big": [">", ["get", "pop"], 5000]}, "allowed_output": ["name", "rank", "pop", "big", "cat", "flag"]}}},
              "limited": {"source": "s", "minzoom": 2, "maxzoom": 7,
                          "tiles": {"limit": [["highest_where_in_distance", ["==", ["get", "cat"], "c3"], 5, "pop"]]},
                          "features": {"filter": ["!=", ["get", "cat"], "c7"], "id": ["get", "rank"]}}}}
            """
        let mixedRecipe = """
            {"version": 1, "layers": {
              "shapes": {"source": "s", "minzoom": 0, "maxzoom": 6,
                         "features": {"filter": [">=", ["zoom"], ["get", "minz"]], "simplification": ["get", "tol"],
                                      "attributes": {"set": {"z": ["zoom"]}}},
                         "tiles": {"buffer_size": 2, "order": ["-", 0, ["get", "n"]]}},
              "plain": {"source": "s", "minzoom": 3, "maxzoom": 6, "tiles": {"extent": 1024, "buffer_size": 0}}}}
            """
        return [
            Case(name: "points-capped", recipe: pointsRecipe, features: { syntheticPoints(8000) }),
            Case(name: "points-capped-spilled-banded", recipe: pointsRecipe, features: { syntheticPoints(8000) }, configure: { t in
                t.recordMemoryLimit = 0
                t.pieceMemoryLimit = 20000
            }, check: { r in
                XCTAssertGreaterThan(r.memory.spilledBytes, 0)
                XCTAssertGreaterThan(r.memory.maxBands, 1)
            }),
            // Pieces of tiles denser than the budget are trimmed while cutting: same tiles.
            Case(name: "points-capped-trimmed", recipe: pointsRecipe, features: { syntheticPoints(8000) }, configure: { t in
                t.pieceMemoryLimit = 150_000
            }, golden: "points-capped", check: { r in XCTAssertGreaterThan(r.memory.trimmedTiles, 0, "the dense tiles were trimmed") }),
            Case(name: "mixed-dynamic", recipe: mixedRecipe, features: { syntheticMixed(600) }),
            Case(name: "ne110m-countries", recipe: #"{"version": 1, "layers": {"countries": {"source": "s", "minzoom": 0, "maxzoom": 4}}}"#,
                 features: { try naturalEarth("real/ne_110m_admin_0_countries.json") }),
            Case(name: "ne50m-rivers", recipe: #"{"version": 1, "layers": {"rivers": {"source": "s", "minzoom": 0, "maxzoom": 5, "features": {"simplification": ["case", ["<", ["zoom"], 4], 8, 1]}}}}"#,
                 features: { try naturalEarth("real/ne_50m_rivers_lake_centerlines.json") }),
        ]
    }

    func testDecodedTilesMatchGolden() throws {
        var results = JSONObject()
        var goldenNames: [String: String] = [:]
        let dump = ProcessInfo.processInfo.environment["TILEDROP_GOLDEN_DUMP"]
        for c in TilerGoldenTests.cases() {
            let features: [Feature]
            do { features = try c.features() } catch let skip as XCTSkip {
                print("TilerGoldenTests: \(c.name) skipped: \(skip.message ?? "")")
                continue
            }
            let recipe = try Recipe(json: try JSONParser.parse(Array(c.recipe.utf8)))
            var tiler = Tiler(recipe: recipe, threads: 2)
            c.configure(&tiler)
            let sink = CollectingSink()
            let report = try tiler.run(resolveSource: { _ in ArrayFeatureSource(features) }, into: sink)
            c.check(report)
            var lines: [String] = []
            results[c.name] = try digest(sink, report, lines: &lines)
            goldenNames[c.name] = c.golden ?? c.name
            if let dump { try lines.joined(separator: "\n").write(toFile: "\(dump)/\(c.name).txt", atomically: true, encoding: .utf8) }
        }
        if ProcessInfo.processInfo.environment["TILEDROP_WRITE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: (TilerGoldenTests.goldenPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let text = "{\n" + results.filter { goldenNames[$0.key] == $0.key }.sorted { $0.key < $1.key }.map { "  \(JSONWriter.string(.string($0.key))): \(JSONWriter.string($0.value))" }.joined(separator: ",\n") + "\n}\n"
            try text.write(toFile: TilerGoldenTests.goldenPath, atomically: true, encoding: .utf8)
            print("TilerGoldenTests: wrote \(TilerGoldenTests.goldenPath)")
            return
        }
        let golden = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: TilerGoldenTests.goldenPath))))
        for m in results {
            let (name, value) = (m.key, m.value)
            guard let expected = golden[goldenNames[name] ?? name] else { XCTFail("\(name): no golden entry; regenerate with TILEDROP_WRITE_GOLDEN=1"); continue }
            for z in (value["zooms"]?.objectValue ?? JSONObject()).map(\.key) {
                let (a, b) = (value["zooms"]?[z].map(JSONWriter.string) ?? "none", expected["zooms"]?[z].map(JSONWriter.string) ?? "none")
                XCTAssertEqual(a, b, "\(name) zoom \(z): decoded tiles differ from the golden digest")
            }
            XCTAssertEqual(JSONWriter.string(value["layer_stats"] ?? .null), JSONWriter.string(expected["layer_stats"] ?? .null), "\(name): stats differ")
            // Warnings are compared up to their first ";": the counts are what the tiler
            // decides, the advice after it is wording (main reworded it after the golden).
            func gist(_ v: JSONValue?) -> [String] { (v?.arrayValue ?? []).map { String(($0.stringValue ?? "").prefix { $0 != ";" }) } }
            XCTAssertEqual(gist(value["warnings"]), gist(expected["warnings"]), "\(name): warnings differ")
            for key in ["tile_count", "feature_count"] { XCTAssertEqual(value[key], expected[key], "\(name): \(key) differs") }
        }
    }

    /// Per zoom: tile count, feature count and an FNV-1a digest of every decoded tile in
    /// (z, x, y) order; plus what the job report says (stats checksum, counts, caps).
    private func digest(_ sink: CollectingSink, _ report: TilingReport, lines: inout [String]) throws -> JSONValue {
        var zooms: [Int: (tiles: Int, features: Int, hash: FNV1a)] = [:]
        for id in sink.tiles.keys.sorted(by: { ($0.z, $0.x, $0.y) < ($1.z, $1.x, $1.y) }) {
            let tile = try XCTUnwrap(try sink.decode(id))
            var text = "\(id.z)/\(id.x)/\(id.y)"
            var count = 0
            for layer in tile.layers {
                text += " |\(layer.name) v\(layer.version) e\(layer.extent)"
                for f in layer.features {
                    count += 1
                    text += " [\(f.id.map(String.init) ?? "-") t\(f.type.rawValue) g\(f.geometry.map(String.init).joined(separator: ","))"
                    for (k, v) in layer.properties(of: f) { text += " \(k)=\(v)" }
                    text += "]"
                }
            }
            lines.append(text)
            var z = zooms[id.z] ?? (0, 0, FNV1a())
            z.tiles += 1
            z.features += count
            z.hash.add(text)
            zooms[id.z] = z
        }
        var zoomObject = JSONObject()
        for (z, v) in zooms.sorted(by: { $0.key < $1.key }) {
            zoomObject[String(z)] = ["tiles": .int(Int64(v.tiles)), "features": .int(Int64(v.features)), "digest": .string(String(v.hash.value, radix: 16))]
        }
        var stats = JSONObject()
        for member in report.layerStats.objectValue ?? JSONObject() {
            let (layer, s) = (member.key, member.value)
            var capped = JSONObject()
            for zs in s["zooms"]?.objectValue ?? JSONObject() { capped[zs.key] = zs.value["capped"] ?? .null }
            stats[layer] = ["checksum": s["checksum"] ?? .null, "total_tiles": s["total_tiles"] ?? .null, "point_count": s["point_count"] ?? .null,
                            "linestring_count": s["linestring_count"] ?? .null, "polygon_count": s["polygon_count"] ?? .null, "capped": .object(capped)]
        }
        return ["zooms": .object(zoomObject), "layer_stats": .object(stats), "warnings": .array(report.warnings.map { .string($0) }),
                "tile_count": .int(Int64(report.tileCount)), "feature_count": .int(Int64(report.featureCount))]
    }

    /// Deterministic points, dense in one region (so low zooms hit `layer_size`), with
    /// string, integer, double and boolean properties.
    static func syntheticPoints(_ n: Int) -> [Feature] {
        var rng = LCG()
        return (0..<n).map { i in
            let dense = i % 3 != 0
            let lon = dense ? 2 + rng.next() * 12 : rng.next() * 360 - 180
            let lat = dense ? 44 + rng.next() * 8 : rng.next() * 160 - 80
            let p = props(["name": .string("place \(i)"), "rank": .int(Int64(i * 7919 % 10007)), "pop": .double(Double(i % 9973) * 1.5),
                           "cat": .string("c\(i % 13)"), "flag": .bool(i % 5 == 0)])
            return Feature(id: .int(Int64(i)), geometry: .point(Position(lon: lon, lat: lat)), properties: p)
        }
    }

    /// Lines, polygons with holes, multipoints and geometry collections, with per-feature
    /// simplification and zoom-dependent filters.
    static func syntheticMixed(_ n: Int) -> [Feature] {
        var rng = LCG()
        return (0..<n).map { i in
            let lon = rng.next() * 300 - 150, lat = rng.next() * 140 - 70
            let size = 0.5 + rng.next() * (i % 50 == 0 ? 60 : 4)
            let geometry: Geometry
            switch i % 5 {
            case 0:
                geometry = .lineString((0..<40).map { k in Position(lon: lon + Double(k) * size / 10, lat: lat + sin(Double(k) / 3) * size / 4) })
            case 1:
                let outer = (0...24).map { k -> Position in
                    let a = Double(k % 24) / 24 * 2 * Double.pi, r = size * (k % 2 == 0 ? 1 : 0.6)
                    return Position(lon: lon + cos(a) * r, lat: max(-84, min(84, lat + sin(a) * r)))
                }
                let hole = (0...4).map { k -> Position in
                    let a = -Double(k % 4) / 4 * 2 * Double.pi
                    return Position(lon: lon + cos(a) * size / 5, lat: lat + sin(a) * size / 5)
                }
                geometry = .polygon([outer, hole])
            case 2:
                geometry = .multiPoint((0..<6).map { k in Position(lon: lon + Double(k) * size / 3, lat: lat) })
            case 3:
                geometry = .geometryCollection([.point(Position(lon: lon, lat: lat)),
                                                .lineString([Position(lon: lon, lat: lat), Position(lon: lon + size, lat: lat + size / 2)])])
            default:
                geometry = .multiLineString([[Position(lon: lon, lat: lat), Position(lon: lon - size, lat: lat)],
                                             [Position(lon: lon, lat: lat + 1), Position(lon: lon + size * 3, lat: lat - 1), Position(lon: lon + size * 4, lat: lat + 2)]])
            }
            let p = props(["n": .int(Int64(i)), "minz": .int(Int64(i % 4)), "tol": .double(Double(i % 3) * 4), "label": .string("f\(i % 17)")])
            return Feature(id: i % 7 == 0 ? .string("s\(i)") : .int(Int64(i)), geometry: geometry, properties: p)
        }
    }

    /// Natural Earth polygons and lines with their NAME and scalerank.
    static func naturalEarth(_ relative: String) throws -> [Feature] {
        let doc = try JSONParser.parse(try Fixtures.bytes(relative))
        func pos(_ v: JSONValue) -> Position { Position(lon: v.arrayValue?.first?.doubleValue ?? 0, lat: v.arrayValue?.dropFirst().first?.doubleValue ?? 0) }
        func line(_ v: JSONValue) -> [Position] { (v.arrayValue ?? []).map(pos) }
        func rings(_ v: JSONValue) -> [[Position]] { (v.arrayValue ?? []).map(line) }
        return (doc["features"]?.arrayValue ?? []).compactMap { f in
            let g = f["geometry"], c = g?["coordinates"] ?? .null
            let geometry: Geometry
            switch g?["type"]?.stringValue {
            case "Polygon": geometry = .polygon(rings(c))
            case "MultiPolygon": geometry = .multiPolygon((c.arrayValue ?? []).map(rings))
            case "LineString": geometry = .lineString(line(c))
            case "MultiLineString": geometry = .multiLineString(rings(c))
            default: return nil
            }
            let p = f["properties"]
            return Feature(geometry: geometry, properties: props(["NAME": p?["NAME"] ?? p?["name"] ?? .null, "scalerank": p?["scalerank"] ?? .null]))
        }
    }

    struct LCG {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
    }
}
