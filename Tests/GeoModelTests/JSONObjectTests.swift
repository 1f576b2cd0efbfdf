import XCTest
@testable import GeoModel

/// Issue 8: large objects are hashed, small ones stay plain arrays; semantics never change.
final class JSONObjectTests: XCTestCase {
    /// Replacing, removing and appending behave the same on both sides of the index threshold.
    func testSemanticsAcrossTheIndexThreshold() {
        for size in [3, JSONObject.indexThreshold, JSONObject.indexThreshold + 1, 500] {
            var o = JSONObject()
            for i in 0..<size { o["k\(i)"] = .int(Int64(i)) }
            XCTAssertEqual(o.count, size)
            o["k1"] = .string("one")
            XCTAssertEqual(o["k1"], .string("one"))
            XCTAssertEqual(o.keys[1], "k1", "a replaced member keeps its place")
            o["k0"] = nil
            XCTAssertNil(o["k0"])
            XCTAssertEqual(o.count, size - 1)
            XCTAssertEqual(o["k2"], .int(2), "lookups still work after a removal shifted positions")
            XCTAssertEqual(o["k\(size - 1)"], .int(Int64(size - 1)))
            o["new"] = true
            XCTAssertEqual(o.keys.last, "new")
            XCTAssertEqual(o["new"], .bool(true))
        }
    }

    /// Equality and hashing ignore the index: the same members in the same order are equal.
    func testEqualityIgnoresTheIndex() {
        var grown = JSONObject()
        for i in 0..<100 { grown["k\(i)"] = .int(Int64(i)) }
        for i in 50..<100 { grown["k\(i)"] = nil }
        var small = JSONObject()
        for i in 0..<50 { small["k\(i)"] = .int(Int64(i)) }
        XCTAssertEqual(grown, small)
        XCTAssertEqual(grown.hashValue, small.hashValue)
    }

    /// 200,000 distinct keys (issue 8's hostile feature) parse in linear time, duplicates still replace.
    func testManyDistinctKeysParseQuickly() throws {
        let n = 200_000
        var text = "{"
        for i in 0..<n { text += "\"key\(i)\":\(i)," }
        text += "\"key7\":\"again\"}"
        let started = Date()
        let v = try JSONParser.parse(text)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(v.objectValue?.count, n)
        XCTAssertEqual(v["key7"], .string("again"))
        XCTAssertEqual(v["key199999"], .int(199_999))
        print("JSONObjectTests: \(n) distinct keys parsed in \(String(format: "%.3f", seconds)) s")
        XCTAssertLessThan(seconds, 10, "lookups must not be linear in the member count")
    }
}
