import XCTest
import GeoModel
@testable import Formats

/// The coordinate formatter must print exactly what `JSONWriter.writeDouble` (Swift's
/// shortest round-trip `description`) prints, for every double.
final class DoubleFormatterTests: XCTestCase {
    private func check(_ d: Double, file: StaticString = #filePath, line: UInt = #line) {
        var fast = JSONWriter()
        DoubleFormatter.write(d, into: &fast)
        var reference = JSONWriter()
        reference.writeDouble(d)
        XCTAssertEqual(String(decoding: fast.bytes, as: UTF8.self), String(decoding: reference.bytes, as: UTF8.self), "bits \(d.bitPattern)", file: file, line: line)
    }

    /// Coordinates must take the fast path (not the `description` fallback).
    func testCoordinatesUseTheFastPath() {
        var out: [UInt8] = []
        for d in [-116.8344898547553, 28.223844838173704, 0.125, 179.99999999999997, -0.007] {
            let bits = d.bitPattern
            XCTAssertTrue(DoubleFormatter.appendShortest(negative: d < 0, m: bits & (1 << 52 - 1) | 1 << 52, e: Int((bits >> 52) & 0x7FF) - 1075, into: &out), "\(d)")
        }
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "-116.834489854755328.2238448381737040.125179.99999999999997-0.007")
    }

    func testMatchesDescription() {
        var state: UInt64 = 12345
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        for _ in 0..<100_000 {
            let r = next()
            check((Double(r >> 11) / Double(1 << 53) - 0.5) * 360)  // coordinates
            check(Double(bitPattern: next()))  // any double, NaN and infinity included
            let magnitude = Double(sign: .plus, exponent: Int(r % 80) - 20, significand: 1)
            check(magnitude * (Double(next() >> 11) / Double(1 << 53) + 0.5))  // 1e-6 … 1e18
        }
        for d in [0.1, 0.2, 0.3, 1e-4, 1.0000000000000002e-4, 9.999999999999999e-5, 123.456, -0.5, 5e-324, 0, -0.0, 1, 2.5,
                  9007199254740991.5, 4503599627370495.5, 179.99999999999997, -122.41941550000001, 1e15 + 0.5, 0.30000000000000004] {
            check(d)
            check(-d)
        }
    }
}
