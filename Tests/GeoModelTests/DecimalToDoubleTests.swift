import XCTest
@testable import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// The fast decimal → Double conversion must agree bit for bit with glibc's strtod.
final class DecimalToDoubleTests: XCTestCase {
    private struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private func check(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        var t = text
        let ours = t.withUTF8 { DecimalToDouble.parse(UnsafeRawBufferPointer($0)) }
        let reference = strtod(text, nil)
        XCTAssertEqual(ours?.bitPattern, reference.bitPattern, "\(text): got \(String(describing: ours)), strtod \(reference)", file: file, line: line)
        // The JSON parser must give the same double.
        if let v = try? JSONParser.parse(text), case .double(let d) = v {
            XCTAssertEqual(d.bitPattern, reference.bitPattern, "JSONParser \(text)", file: file, line: line)
        }
    }

    private func format(_ d: Double, _ spec: String) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([d]) { vsnprintf(&buf, 64, spec, $0) }
        return String(cString: buf)
    }

    func testRandomDoublesPrintedWith15To17Digits() {
        var rng = SplitMix(state: 42)
        for _ in 0..<40_000 {
            let d = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
            for spec in ["%.17g", "%.16g", "%.15g"] { check(format(d, spec)) }
        }
    }

    func testCoordinateLikeValues() {
        var rng = SplitMix(state: 7)
        for _ in 0..<40_000 {
            let d = (Double(rng.next() >> 11) / Double(1 << 53) - 0.5) * 360
            check(format(d, "%.17g"))
            check(format(d, "%.6f"))
            check("\(d)")
        }
    }

    /// Eisel–Lemire itself (not the strtod fallback) must decide nearly all 17-digit values.
    func testFastPathDecidesCoordinates() {
        var rng = SplitMix(state: 3)
        var undecided = 0
        for _ in 0..<10_000 {
            let w = 10_000_000_000_000_000 + rng.next() % 90_000_000_000_000_000
            let q = -15 - Int(rng.next() % 3)
            guard let bits = DecimalToDouble.eiselLemire(w, q) else { undecided += 1; continue }
            XCTAssertEqual(bits, strtod("\(w)e\(q)", nil).bitPattern, "\(w)e\(q)")
        }
        XCTAssertLessThan(undecided, 10)
    }

    func testRandomDigitStringsAndExponents() {
        var rng = SplitMix(state: 1)
        for _ in 0..<60_000 {
            let digits = Int(rng.next() % 19) + 1
            var s = ""
            for k in 0..<digits { s.append(Character(Unicode.Scalar(UInt8(48 + (k == 0 ? 1 + rng.next() % 9 : rng.next() % 10))))) }
            let e = Int(rng.next() % 700) - 350
            check("\(s)e\(e)")
            check("-0.\(s)")
            // Long fractions cross the parser's 8-digit steps and the 19-digit limit.
            check("\(s.prefix(3)).\(s)\(s)")
            check("0.000\(s)e-\(e & 15)")
        }
    }

    /// Decimal strings exactly half-way between two adjacent doubles must round to even.
    func testHalfwayCases() {
        var rng = SplitMix(state: 99)
        for _ in 0..<5_000 {
            let d = Double(bitPattern: (rng.next() % 0x0010_0000_0000_0000) | (UInt64(1023 + Int(rng.next() % 120) - 60) << 52))
            let next = d.nextUp
            // The midpoint has at most 54 significant bits: print it exactly.
            let mid = format((d + next) / 2, "%.17g")  // not exact; also exercise the exact form below
            check(mid)
            check(exactDecimal(d, next))
        }
        for text in ["9007199254740993", "9007199254740995", "2.2250738585072011e-308", "4.9e-324", "1e23", "8.98846567431158e307",
                     "1.7976931348623158e308", "0.0", "-0", "123456789012345678", "0.30000000000000004", "179.99999999999997"] {
            check(text)
        }
    }

    /// The exact decimal expansion of the midpoint of `a` and `b` (two adjacent doubles).
    private func exactDecimal(_ a: Double, _ b: Double) -> String {
        // midpoint = (ma + mb) / 2 * 2^e with integer significands: print via long multiplication.
        let e = a.exponent - 52
        let m = (a.significandBitPattern | 1 << 52) * 2 + 1  // 2·ma + 1 = ma + mb
        var digits: [UInt8] = Array(String(m).utf8).map { $0 - 48 }
        var fraction = 0
        var exp2 = Int(e) - 1
        while exp2 > 0 { digits = times(digits, 2); exp2 -= 1 }
        while exp2 < 0 { digits = times(digits, 5); fraction += 1; exp2 += 1 }  // x / 2 = x * 5 / 10
        var s = String(decoding: digits.map { $0 + 48 }, as: UTF8.self)
        if fraction > 0 {
            if s.count <= fraction { s = String(repeating: "0", count: fraction - s.count + 1) + s }
            s.insert(".", at: s.index(s.endIndex, offsetBy: -fraction))
        }
        return s
    }

    private func times(_ digits: [UInt8], _ f: UInt8) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digits.count + 1)
        var carry: UInt8 = 0
        for i in stride(from: digits.count - 1, through: 0, by: -1) {
            let v = digits[i] * f + carry
            out[i + 1] = v % 10
            carry = v / 10
        }
        out[0] = carry
        return out.first == 0 ? Array(out.dropFirst()) : out
    }
}
