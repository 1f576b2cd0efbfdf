import XCTest
@testable import GeoModel

final class JSONParserTests: XCTestCase {
    func testParsesAllKinds() throws {
        let v = try JSONParser.parse(#"{"a":1,"b":-2.5,"c":"x\ny\u00e9\ud83d\ude00","d":[true,false,null],"e":{}}"#)
        XCTAssertEqual(v["a"], .int(1))
        XCTAssertEqual(v["b"], .double(-2.5))
        XCTAssertEqual(v["c"], .string("x\nyé😀"))
        XCTAssertEqual(v["d"], .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(v["e"], .object(JSONObject()))
    }

    func testNumbersAreExact() throws {
        for text in ["0.1", "123.456", "-0.000123", "1e-7", "179.99999999999997", "12345678901234567890", "2.2250738585072014e-308", "1.7976931348623157e308"] {
            let v = try JSONParser.parse(text)
            XCTAssertEqual(v.doubleValue, Double(text), text)
        }
        XCTAssertEqual(try JSONParser.parse("9007199254740993"), .int(9007199254740993))
    }

    /// A repeated member replaces the earlier value in place (last one wins, order kept).
    func testDuplicateMembers() throws {
        let v = try JSONParser.parse(#"{"a":1,"bb":2,"a":3,"c":4,"bb":5,"dd":6}"#)
        XCTAssertEqual(v.objectValue?.keys, ["a", "bb", "c", "dd"])
        XCTAssertEqual(v["a"], .int(3))
        XCTAssertEqual(v["bb"], .int(5))
        XCTAssertEqual(v["dd"], .int(6))
    }

    func testRoundTrip() throws {
        let text = #"{"name":"Zürich \"quoted\"","n":0.1,"big":1e+300,"i":-42,"arr":[1,2.5,"s"],"nested":{"k":null}}"#
        let v = try JSONParser.parse(text)
        let again = try JSONParser.parse(JSONWriter.string(v))
        XCTAssertEqual(v, again)
    }

    func testErrorsCarryLineAndColumn() {
        XCTAssertThrowsError(try JSONParser.parse("{\n  \"a\": [1, 2,\n  }")) { e in
            let e = e as! JSONError
            XCTAssertEqual(e.line, 3)
            XCTAssertEqual(e.column, 3)
        }
        XCTAssertThrowsError(try JSONParser.parse(#"{"a": 1"#)) { e in
            XCTAssertTrue((e as! JSONError).message.contains("truncated"))
        }
    }

    func testRejectsHostileInput() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(deep)) { e in
            XCTAssertTrue((e as! JSONError).message.contains("nesting"))
        }
        XCTAssertThrowsError(try JSONParser.parse("1e999"))
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]))
        XCTAssertThrowsError(try JSONParser.parse("[01]"))
        XCTAssertThrowsError(try JSONParser.parse("[1,]"))
        XCTAssertThrowsError(try JSONParser.parse(""))
    }

    func testTileIDParsingAndTMS() {
        XCTAssertEqual(TileID(path: "3/2/1"), TileID(z: 3, x: 2, y: 1))
        XCTAssertNil(TileID(path: "3/8/1"))
        XCTAssertEqual(TileID(z: 3, x: 2, y: 1).tmsRow, 6)
    }
}
