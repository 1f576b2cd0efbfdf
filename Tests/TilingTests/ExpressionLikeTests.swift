import GeoModel
@testable import Tiling
import XCTest

final class ExpressionLikeTests: XCTestCase {
    func like(_ text: String, _ pattern: String) -> Bool {
        Expression.like(Array(text.unicodeScalars), Array(pattern.unicodeScalars))
    }

    func testLikePatterns() {
        XCTAssertTrue(like("", ""))
        XCTAssertTrue(like("", "%"))
        XCTAssertFalse(like("", "_"))
        XCTAssertTrue(like("abc", "a%"))
        XCTAssertTrue(like("abc", "%c"))
        XCTAssertTrue(like("abc", "a_c"))
        XCTAssertFalse(like("abc", "a_"))
        XCTAssertTrue(like("aXbXc", "%b%c"))
        XCTAssertTrue(like("mississippi", "%iss%ppi"))
        XCTAssertFalse(like("mississippi", "%iss%ppx"))
        XCTAssertTrue(like("50%", "50\\%"))
        XCTAssertFalse(like("500", "50\\%"))
        XCTAssertTrue(like("a_b", "a\\_b"))
        XCTAssertFalse(like("axb", "a\\_b"))
        XCTAssertTrue(like("Zürich", "Z_rich"), "_ is one character, not one byte")
        // Pathological patterns stay linear-ish: no exponential backtracking.
        XCTAssertFalse(like(String(repeating: "a", count: 5_000), String(repeating: "%a", count: 200) + "b"))
    }

    func testLikeOperatorAndEquality() throws {
        let e = try Expression.parse(.array([.string("like"), .array([.string("get"), .string("n")]), .string("F%")]), path: "f")
        let c = { (v: JSONValue?) in ExpressionContext(properties: JSONObject(v.map { [.init(key: "n", value: $0)] } ?? []), id: nil, geometryType: "Point", zoom: 0) }
        XCTAssertEqual(e.evaluate(c(.string("France"))), .bool(true))
        XCTAssertEqual(e.evaluate(c(.string("Chad"))), .bool(false))
        XCTAssertEqual(e.evaluate(c(nil)), .null, "LIKE over NULL is unknown")
        XCTAssertEqual(e, try Expression.parse(.array([.string("like"), .array([.string("get"), .string("n")]), .string("F%")]), path: "g"))
        XCTAssertNotEqual(e, try Expression.parse(.array([.string("like"), .array([.string("get"), .string("n")]), .string("G%")]), path: "g"))
    }
}
