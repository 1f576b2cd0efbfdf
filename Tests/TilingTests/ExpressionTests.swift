import GeoModel
@testable import Tiling
import XCTest

final class ExpressionTests: XCTestCase {
    private let ctx = ExpressionContext(properties: props(["name": "Oslo", "pop": 700000, "rank": 2.5, "kind": "city", "capital": true]),
                                        id: 42, geometryType: "Point", zoom: 6)

    private func eval(_ text: String) throws -> JSONValue {
        try Expression.parse(try JSONParser.parse(text), path: "test").evaluate(ctx)
    }

    func testLookupsAndComparisons() throws {
        XCTAssertEqual(try eval(#"["get", "name"]"#), "Oslo")
        XCTAssertEqual(try eval(#"["get", "missing"]"#), .null)
        XCTAssertEqual(try eval(#"["has", "pop"]"#), true)
        XCTAssertEqual(try eval(#"["==", ["get", "pop"], 700000.0]"#), true)
        XCTAssertEqual(try eval(#"[">=", ["zoom"], 6]"#), true)
        XCTAssertEqual(try eval(#"["<", ["get", "name"], "Paris"]"#), true)
        XCTAssertEqual(try eval(#"["<", ["get", "name"], 3]"#), false, "mixed types compare false")
        XCTAssertEqual(try eval(#"["==", ["geometry-type"], "Point"]"#), true)
        XCTAssertEqual(try eval(#"["id"]"#), 42)
    }

    func testLogicAndBranching() throws {
        XCTAssertEqual(try eval(#"["all", ["has", "name"], ["!", ["has", "nope"]]]"#), true)
        XCTAssertEqual(try eval(#"["any", false, ["==", 1, 2]]"#), false)
        XCTAssertEqual(try eval(#"["match", ["get", "kind"], ["town", "village"], 1, "city", 2, 0]"#), 2)
        XCTAssertEqual(try eval(#"["case", [">", ["get", "pop"], 1000000], "big", [">", ["get", "pop"], 100000], "mid", "small"]"#), "mid")
        XCTAssertEqual(try eval(#"["coalesce", ["get", "missing"], ["get", "name"]]"#), "Oslo")
        XCTAssertEqual(try eval(#"["in", ["get", "kind"], ["literal", ["city", "town"]]]"#), true)
    }

    func testConversionsAndArithmetic() throws {
        XCTAssertEqual(try eval(#"["to-number", "12.5"]"#), 12.5)
        XCTAssertEqual(try eval(#"["to-string", ["get", "pop"]]"#), "700000")
        XCTAssertEqual(try eval(#"["+", 1, 2, 3]"#), 6)
        XCTAssertEqual(try eval(#"["-", 10, ["get", "rank"]]"#), 7.5)
        XCTAssertEqual(try eval(#"["/", ["get", "pop"], 1000]"#), 700.0)
        XCTAssertEqual(try eval(#"["%", 7, 3]"#), 1)
        XCTAssertEqual(try eval(#"["^", 2, 10]"#), 1024)
        XCTAssertEqual(try eval(#"["*", ["get", "name"], 2]"#), .null)
    }

    func testParseErrorsPointIntoTheRecipe() {
        XCTAssertThrowsError(try Expression.parse(try JSONParser.parse(#"["all", ["get"]]"#), path: "layers.a.features.filter")) { e in
            XCTAssertTrue("\(e)".contains("layers.a.features.filter[1]: \"get\" expects 1 argument, found 0"), "\(e)")
        }
        XCTAssertThrowsError(try Expression.parse(try JSONParser.parse(#"[1, 2]"#), path: "f"))
        XCTAssertThrowsError(try Expression.parse(try JSONParser.parse(#"["match", ["get", "a"], 1]"#), path: "f"))
    }

    func testZoomDependence() throws {
        XCTAssertTrue(try Expression.parse(try JSONParser.parse(#"["case", [">", ["zoom"], 3], 1, 2]"#), path: "x").usesZoom)
        XCTAssertFalse(try Expression.parse(try JSONParser.parse(#"["get", "zoom"]"#), path: "x").usesZoom)
    }
}
