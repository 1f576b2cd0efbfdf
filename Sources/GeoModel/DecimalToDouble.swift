#if canImport(Glibc)
import Glibc
#endif

/// Correctly rounded decimal → `Double` conversion, bit-exact with C's `strtod`.
///
/// Coordinates in real files carry 15–17 significant digits, which Clinger's fast path
/// (mantissa ≤ 2^53, |exponent| ≤ 22) cannot convert exactly, and `strtod` is slow. This uses
/// the Eisel–Lemire algorithm (D. Lemire, "Number Parsing at a Gigabyte per Second",
/// Software: Practice and Experience 51(8), 2021; as in fast_float and Go's strconv):
/// multiply the normalised decimal mantissa by a 128-bit approximation of 5^q and round,
/// giving up (returning nil) in the rare cases where the truncated product cannot decide
/// the rounding. Callers then fall back to `strtod`, so every result is exact. The 5^q table
/// is computed once at first use with exact big-integer arithmetic (no literal table).
package enum DecimalToDouble {
    /// Converts `negative ? -w : w` × 10^`q`, where `w` holds *all* significant digits.
    /// Returns nil when the fast algorithms cannot decide (the caller must use `strtod`).
    @inline(__always)
    package static func convert(mantissa w: UInt64, exponent q: Int, negative: Bool) -> Double? {
        if w == 0 { return negative ? -0.0 : 0.0 }
        // Clinger's fast path: both operands exact, one correctly rounded operation.
        if w <= 1 << 53, q >= -22, q <= 22 {
            var d = Double(w)
            d = q < 0 ? d / exactPowersOf10[-q] : d * exactPowersOf10[q]
            return negative ? -d : d
        }
        guard let bits = eiselLemire(w, q) else { return nil }
        let d = Double(bitPattern: bits)
        return negative ? -d : d
    }

    /// Parses decimal text (JSON / KML number syntax, optional sign, fraction and exponent)
    /// into a correctly rounded Double, or nil when it is not a number. Falls back to strtod.
    package static func parse(_ text: UnsafeRawBufferPointer) -> Double? {
        let n = text.count
        var i = 0
        guard n > 0 else { return nil }
        var negative = false
        if text[0] == UInt8(ascii: "-") || text[0] == UInt8(ascii: "+") {
            negative = text[0] == UInt8(ascii: "-")
            i = 1
        }
        var w: UInt64 = 0
        var significant = 0
        var fracDigits = 0
        var digits = 0
        while i < n, text[i] &- 48 < 10 {
            if significant > 0 || text[i] != 48 { significant += 1 }
            if significant <= 19 { w = w &* 10 &+ UInt64(text[i] &- 48) } else { fracDigits -= 1 }
            digits += 1
            i += 1
        }
        if i < n, text[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, text[i] &- 48 < 10 {
                if significant > 0 || text[i] != 48 { significant += 1 }
                if significant <= 19 {
                    w = w &* 10 &+ UInt64(text[i] &- 48)
                    fracDigits += 1
                }
                digits += 1
                i += 1
            }
        }
        guard digits > 0 else { return nil }
        var exponent = 0
        if i < n, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < n, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
                expNegative = text[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < n else { return nil }
            while i < n, text[i] &- 48 < 10 {
                if exponent < 100_000 { exponent = exponent * 10 + Int(text[i] &- 48) }
                i += 1
            }
            if expNegative { exponent = -exponent }
        }
        guard i == n else { return nil }
        if significant <= 19, let d = convert(mantissa: w, exponent: exponent - fracDigits, negative: negative) { return d }
        return strtod(text)
    }

    /// C `strtod` on a byte range (the exact, slow reference).
    package static func strtod(_ text: UnsafeRawBufferPointer) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buf in
            for i in 0..<text.count { buf[i] = CChar(bitPattern: text[i]) }
            buf[text.count] = 0
            return Glibc.strtod(buf.baseAddress!, nil)
        }
    }

    /// Eisel–Lemire for binary64 (fast_float's `compute_float`), nil when undecided,
    /// subnormal or outside the table (callers fall back to strtod).
    static func eiselLemire(_ w0: UInt64, _ q: Int) -> UInt64? {
        guard q >= smallestPower, q <= largestPower else { return nil }
        let lz = w0.leadingZeroBitCount
        let w = w0 << UInt64(lz)
        let table = powersOfFive
        let index = 2 * (q - smallestPower)
        var (hi, lo) = w.multipliedFullWidth(by: table[index])
        if hi & 0x1FF == 0x1FF {
            // The truncated 64-bit product might be off: add the next 64 bits of 5^q.
            let (hi2, _) = w.multipliedFullWidth(by: table[index + 1])
            let (sum, carry) = lo.addingReportingOverflow(hi2)
            lo = sum
            if carry { hi &+= 1 }
        }
        // Conservative: the product may still be inexact here; let strtod decide.
        if lo == UInt64.max { return nil }
        let upperBit = Int(hi >> 63)
        var mantissa = hi >> UInt64(upperBit + 9)
        var power2 = (((152_170 + 65_536) * q) >> 16) + 63 + upperBit - lz + 1023
        if power2 <= 0 { return nil }
        // Exactly half-way between two doubles (only possible for small q): round to even.
        if lo <= 1, q >= -4, q <= 23, mantissa & 3 == 1, mantissa << UInt64(upperBit + 9) == hi {
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= 2 << 52 {
            mantissa = 1 << 52
            power2 += 1
        }
        mantissa &= ~(1 << 52)
        if power2 >= 0x7FF { return 0x7FF << 52 }
        return UInt64(power2) << 52 | mantissa
    }

    static let smallestPower = -342
    static let largestPower = 308

    static let exactPowersOf10: [Double] = (0...22).map { e in
        var d = 1.0
        for _ in 0..<e { d *= 10 }
        return d
    }

    /// 128-bit approximations of 5^q for q in -342...308, two words (high, low) per q,
    /// built exactly as fast_float's generator does: 5^q truncated for q ≥ 0, and
    /// ⌊2^b / 5^-q⌋ + 1 truncated to its top 128 bits for q < 0.
    static let powersOfFive: [UInt64] = {
        var table: [UInt64] = []
        table.reserveCapacity(2 * (largestPower - smallestPower + 1))
        for q in smallestPower..<0 {
            let power5 = BigUInt.power(of: 5, q == 0 ? 0 : -q)
            let z = power5.bitWidth
            let b = q >= -27 ? z + 127 : 2 * z + 128
            var quotient = BigUInt.powerOfTwo(b)
            for _ in 0 ..< -q { quotient.divide(by: 5) }
            quotient.addOne()
            let (hi, lo) = quotient.top128()
            table += [hi, lo]
        }
        var power5 = BigUInt.power(of: 5, 0)
        for _ in 0...largestPower {
            let (hi, lo) = power5.top128()
            table += [hi, lo]
            power5.multiply(by: 5)
        }
        return table
    }()
}

/// Minimal unsigned big integer (little-endian 64-bit limbs) for building the 5^q table.
struct BigUInt {
    var limbs: [UInt64]

    static func powerOfTwo(_ e: Int) -> BigUInt {
        var l = [UInt64](repeating: 0, count: e / 64 + 1)
        l[e / 64] = 1 << UInt64(e % 64)
        return BigUInt(limbs: l)
    }

    static func power(of base: UInt64, _ e: Int) -> BigUInt {
        var r = BigUInt(limbs: [1])
        for _ in 0..<e { r.multiply(by: base) }
        return r
    }

    var bitWidth: Int {
        guard let i = limbs.lastIndex(where: { $0 != 0 }) else { return 0 }
        return i * 64 + (64 - limbs[i].leadingZeroBitCount)
    }

    mutating func multiply(by m: UInt64) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let (hi, lo) = limbs[i].multipliedFullWidth(by: m)
            let (sum, c) = lo.addingReportingOverflow(carry)
            limbs[i] = sum
            carry = hi &+ (c ? 1 : 0)
        }
        if carry != 0 { limbs.append(carry) }
    }

    mutating func divide(by d: UInt64) {
        var remainder: UInt64 = 0
        for i in limbs.indices.reversed() {
            let (q, r) = d.dividingFullWidth((remainder, limbs[i]))
            limbs[i] = q
            remainder = r
        }
    }

    mutating func addOne() {
        for i in limbs.indices {
            limbs[i] &+= 1
            if limbs[i] != 0 { return }
        }
        limbs.append(1)
    }

    /// The top 128 bits, left-aligned (zero-filled below when narrower than 128 bits).
    func top128() -> (UInt64, UInt64) {
        let width = bitWidth
        var hi: UInt64 = 0, lo: UInt64 = 0
        for k in 0..<128 {
            let bit = width - 1 - k
            let set = bit >= 0 && (limbs[bit / 64] >> UInt64(bit % 64)) & 1 == 1
            if k < 64 { hi = hi << 1 | (set ? 1 : 0) } else { lo = lo << 1 | (set ? 1 : 0) }
        }
        return (hi, lo)
    }
}
