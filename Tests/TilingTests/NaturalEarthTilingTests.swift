import Foundation
import GeoModel
@testable import Tiling
import XCTest

/// Tiles the Natural Earth 110m countries (read in place from the shared fixtures) and checks
/// what map readers care about: every polygon valid and correctly wound, every country present.
final class NaturalEarthTilingTests: XCTestCase {
    /// Minimal GeoJSON geometry decoding for the test (the real readers live in Formats).
    private func geometry(_ g: JSONValue?) -> Geometry? {
        func pos(_ v: JSONValue) -> Position { Position(lon: v.arrayValue![0].doubleValue!, lat: v.arrayValue![1].doubleValue!) }
        func rings(_ v: JSONValue) -> [[Position]] { v.arrayValue!.map { $0.arrayValue!.map(pos) } }
        switch g?["type"]?.stringValue {
        case "Polygon": return .polygon(rings(g!["coordinates"]!))
        case "MultiPolygon": return .multiPolygon(g!["coordinates"]!.arrayValue!.map(rings))
        default: return nil
        }
    }

    func testEveryPolygonIsValidAndEveryCountryPresent() throws {
        let doc = try JSONParser.parse(try Fixtures.bytes("real/ne_110m_admin_0_countries.json"))
        let features = (doc["features"]?.arrayValue ?? []).map { f in
            Feature(geometry: geometry(f["geometry"]), properties: props(["NAME": f["properties"]?["NAME"] ?? .null]))
        }
        XCTAssertEqual(features.count, 177)
        let recipe = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"countries": {"source": "ne", "minzoom": 0, "maxzoom": 3}}}"#))
        let sink = CollectingSink()
        _ = try Tiler(recipe: recipe, threads: 2).run(resolveSource: { _ in ArrayFeatureSource(features) }, into: sink)
        var namesAtMaxZoom = Set<String>()
        for (id, _) in sink.tiles {
            let layer = try XCTUnwrap(try sink.decode(id)?.layers.first)
            for f in layer.features {
                XCTAssertEqual(f.type, .polygon)
                var polygons: [[[TilePoint]]] = []
                for ring in f.decoded.parts {
                    if MVTGeometry.signedArea2(ring) > 0 { polygons.append([ring]) } else {
                        XCTAssertFalse(polygons.isEmpty, "a hole before any exterior in tile \(id)")
                        if !polygons.isEmpty { polygons[polygons.count - 1].append(ring) }
                    }
                }
                XCTAssertNil(PolygonRepair.findProblem(polygons), "invalid polygon in tile \(id): \(layer.properties(of: f))")
                if id.z == 3, case .string(let name)? = layer.properties(of: f).first?.value { namesAtMaxZoom.insert(name) }
            }
        }
        XCTAssertEqual(namesAtMaxZoom.count, 177, "every country at the max zoom")
    }

    /// Issue 15: at z0–z2 the 50m United States lost its mainland (only Alaska was left) and
    /// Canada lost islands, because the repair of the z0 multipolygon gave up after six rounds.
    /// Each low-zoom tile must hold the USA's mainland (a point in Kansas) and Alaska.
    func testUnitedStatesKeepsMainlandAndAlaskaAtLowZooms() throws {
        let doc = try JSONParser.parse(try Fixtures.bytes("real/ne_50m_admin_0_countries.json"))
        let usa = try XCTUnwrap((doc["features"]?.arrayValue ?? []).first { $0["properties"]?["ADM0_A3"] == "USA" })
        let feature = Feature(geometry: geometry(usa["geometry"]), properties: props(["ADM0_A3": "USA"]))
        let recipe = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"countries": {"source": "ne", "minzoom": 0, "maxzoom": 2}}}"#))
        let sink = CollectingSink()
        _ = try Tiler(recipe: recipe, threads: 2).run(resolveSource: { _ in ArrayFeatureSource([feature]) }, into: sink)
        // Both places lie in the same tile at z0, z1 and z2.
        for tile in [TileID(z: 0, x: 0, y: 0), TileID(z: 1, x: 0, y: 0), TileID(z: 2, x: 0, y: 1)] {
            let f = try XCTUnwrap(try sink.decode(tile)?.layers.first?.features.first, "tile \(tile)")
            for (lon, lat, name) in [(-98.0, 38.5, "Kansas"), (-150.0, 64.0, "Alaska")] {
                let n = Double(1 << tile.z)
                let x = ((lon + 180) / 360 * n - Double(tile.x)) * 4096
                let y = ((1 - log(tan(lat * .pi / 180) + 1 / cos(lat * .pi / 180)) / .pi) / 2 * n - Double(tile.y)) * 4096
                let inside = f.decoded.parts.filter { MVTGeometry.signedArea2($0) > 0 }.contains { PolygonRepair.inside((x, y), $0) }
                XCTAssertTrue(inside, "\(name) is inside the USA in tile \(tile)")
            }
        }
    }
}
