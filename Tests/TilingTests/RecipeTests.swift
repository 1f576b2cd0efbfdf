import GeoModel
@testable import Tiling
import XCTest

final class RecipeTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    func testValidRecipeParses() throws {
        let r = try Recipe(json: parse("""
            {"version": 1, "layers": {"roads": {"source": "tiledrop://tileset-source/roads", "minzoom": 2, "maxzoom": 12,
              "features": {"id": ["get", "osm_id"], "filter": ["==", ["get", "kind"], "road"],
                           "attributes": {"set": {"len": ["*", ["get", "length"], 2]}, "allowed_output": ["name", "len"]},
                           "simplification": ["case", [">=", ["zoom"], 10], 1, 4]},
              "tiles": {"layer_size": 300, "extent": 8192, "buffer_size": 2, "order": "rank",
                        "limit": [["lowest_where_in_distance", true, 5, "rank"]]}}}}
            """))
        let l = try XCTUnwrap(r.layers.first)
        XCTAssertEqual(l.name, "roads")
        XCTAssertEqual(l.minzoom, 2)
        XCTAssertEqual(l.maxzoom, 12)
        XCTAssertEqual(l.layerSize, 300)
        XCTAssertEqual(l.extent, 8192)
        XCTAssertEqual(l.bufferSize, 2)
        XCTAssertEqual(l.allowedOutput, ["name", "len"])
        XCTAssertEqual(l.limits.count, 1)
        XCTAssertTrue(l.simplification.usesZoom)
    }

    func testMTSWordingForZoomOrder() throws {
        let errors = Recipe.validate(try parse(#"{"version": 1, "layers": {"a": {"source": "x", "minzoom": 22, "maxzoom": 11}}}"#))
        XCTAssertEqual(errors, ["minzoom 22 cannot be larger than maxzoom 11"], "MTS's validateRecipe example, word for word")
    }

    func testInvalidRecipesListEveryProblem() throws {
        let errors = Recipe.validate(try parse("""
            {"version": 2, "extra": 1, "layers": {"bad-name": {"minzoom": 0, "maxzoom": 17, "colour": 1,
              "features": {"filter": ["gett", "a"]}, "tiles": {"layer_size": 0}}}}
            """))
        let joined = errors.joined(separator: "\n")
        for fragment in ["version 2", "unknown property \"extra\"", "[A-Za-z0-9_]", "missing required property \"source\"",
                         "maxzoom 17 must be between 0 and 16", "unknown property \"colour\"",
                         "unknown expression operator \"gett\"", "layer_size"] {
            XCTAssertTrue(joined.contains(fragment), "expected an error mentioning \(fragment) in:\n\(joined)")
        }
        XCTAssertFalse(Recipe.validate(try parse(#"{"version": 1, "layers": {}}"#)).isEmpty)
        XCTAssertFalse(Recipe.validate(try parse(#"{"version": 1}"#)).isEmpty)
        XCTAssertFalse(Recipe.validate(try parse("[]")).isEmpty)
    }

    func testTooManyLayers() throws {
        var layers = JSONObject()
        for i in 0..<21 { layers["l\(i)"] = ["source": "s", "minzoom": 0, "maxzoom": 1] }
        let errors = Recipe.validate(["version": 1, "layers": .object(layers)])
        XCTAssertTrue(errors.contains { $0.contains("at most 20 layers") }, "\(errors)")
    }

    func testDefaultRecipe() {
        let r = Recipe.defaultRecipe(map: "my-trips", maxzoom: 10)
        XCTAssertEqual(r.layers.count, 1)
        XCTAssertEqual(r.layers[0].name, "my_trips")
        XCTAssertEqual(r.layers[0].source, "tiledrop://tileset-source/my-trips")
        XCTAssertEqual(r.layers[0].minzoom, 0)
        XCTAssertEqual(r.layers[0].maxzoom, 10)
        XCTAssertFalse(r.layers[0].autoMaxzoom)
        XCTAssertTrue(r.layers[0].skipNestedAttributes, "default tilesets leave arrays and objects out")
        XCTAssertEqual(Recipe.validate(r.json), [])
        let auto = Recipe.defaultRecipe(map: "my-trips", maxzoom: nil)
        XCTAssertTrue(auto.layers[0].autoMaxzoom)
        XCTAssertEqual(auto.layers[0].maxzoom, Recipe.fallbackMaxzoom)
    }
}
