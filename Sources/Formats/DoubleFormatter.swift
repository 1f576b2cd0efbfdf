import GeoModel

/// Writes coordinates as the shortest decimal that reads back as the same Double.
///
/// `JSONWriter.writeDouble` uses Swift's `description`, which is correct but builds a
/// `String` per number (a heap allocation for the 17–19 characters a coordinate takes).
/// Coordinates are the bulk of every output line, so this formats them straight into the
/// byte buffer with exact 128-bit integer arithmetic (the Steele–White / Ryu definition:
/// among all decimals inside the double's rounding interval, the one with the fewest
/// digits, and of those the closest to the exact value). It covers the range where
/// `description` prints plain decimal notation, 2^-11 ≤ |d| < 2^53, for non-integral values
/// with a regular rounding interval; everything else (integers, powers of two, tiny and
/// huge values, non-finite) goes to `JSONWriter.writeDouble`, so the text is always exactly
/// what `description` would print (tested against it).
enum DoubleFormatter {
    static func write(_ d: Double, into w: inout JSONWriter) {
        let bits = d.bitPattern
        let biased = Int((bits >> 52) & 0x7FF)
        let fraction = bits & (1 << 52 - 1)
        // |d| in [2^-11, 2^53) and not a power of two (whose interval is asymmetric).
        if biased >= 1023 - 11, biased < 1023 + 53, fraction != 0,
           appendShortest(negative: bits >> 63 != 0, m: fraction | 1 << 52, e: biased - 1075, into: &w.bytes) {
            return
        }
        w.writeDouble(d)
    }

    /// Formats m·2^e (m a 53-bit significand, -64 < e < 0); false when the value is
    /// integral or out of this method's range (the caller then uses the general path).
    static func appendShortest(negative: Bool, m: UInt64, e: Int, into out: inout [UInt8]) -> Bool {
        guard e < 0, e > -64 else { return false }
        let shift = 1 - e  // the interval bounds are (2m ± 1) / 2^shift
        // s decimal places make the rounding interval (width 10^s / 2^-e) at least 1 wide.
        var s = ((shift - 1) * 78_913) >> 18  // ⌊(shift - 1)·log10 2⌋
        if pow10[s] < 1 << UInt64(shift - 1) { s += 1 }
        guard s <= 19 else { return false }
        let scale = pow10[s]
        let low = UInt128(2 * m - 1) * UInt128(scale), high = UInt128(2 * m + 1) * UInt128(scale)
        let exact = UInt128(2 * m) * UInt128(scale)
        let mask = (UInt128(1) << shift) - 1
        // Integers inside the interval (in units of 10^-s); the ends count when m is even
        // (round-half-even reads them back as this double).
        let even = m & 1 == 0
        var a = low >> shift
        if low & mask != 0 || !even { a += 1 }
        var b = high >> shift
        if high & mask == 0, !even { b -= 1 }
        guard a <= b, b < UInt128(UInt64.max / 10) else { return false }
        var lo = UInt64(a), hi = UInt64(b)
        // Drop trailing digits while a multiple of 10^(t+1) still fits in [lo, hi].
        var t = 0
        while true {
            let nlo = (lo + 9) / 10, nhi = hi / 10
            if nlo > nhi { break }
            lo = nlo
            hi = nhi
            t += 1
        }
        // Of the (at most two) candidates k·10^t around the exact value, pick the closer.
        let v = UInt64(truncatingIfNeeded: exact >> shift)  // ⌊exact⌋; fractional part is exact & mask
        let p = pow10[t]
        let down = v / p
        let r = v - down * p
        var k = down
        if down < lo {
            k = down + 1
        } else if down + 1 <= hi {
            // Both candidates fit only when p < the interval width (< 10), so this cannot overflow.
            let half = UInt128(p) << (shift - 1)  // p/2 in units of 2^-shift
            let distance = (UInt128(r) << shift) | (exact & mask)
            if distance > half || (distance == half && down & 1 == 1) { k = down + 1 }
        }
        let places = s - t
        guard places > 0, k % 10 != 0 else { return false }
        appendDecimal(k, places: places, negative: negative, into: &out)
        return true
    }

    /// Writes k·10^-places as `[-]int.frac` (0 < places ≤ 19, k without trailing zeros).
    private static func appendDecimal(_ k: UInt64, places: Int, negative: Bool, into out: inout [UInt8]) {
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes, filled from the end
        withUnsafeMutableBytes(of: &text) { buf in
            let pairs = digitPairs.utf8Start
            var i = 32
            var x = k
            var digits = 0
            while x >= 100 {
                let pair = Int(x % 100) * 2
                x /= 100
                buf[i - 1] = pairs[pair + 1]
                buf[i - 2] = pairs[pair]
                i -= 2
                digits += 2
            }
            if x >= 10 {
                buf[i - 1] = pairs[Int(x) * 2 + 1]
                buf[i - 2] = pairs[Int(x) * 2]
                i -= 2
                digits += 2
            } else {
                buf[i - 1] = UInt8(48 + x)
                i -= 1
                digits += 1
            }
            while digits < places {
                buf[i - 1] = 48
                i -= 1
                digits += 1
            }
            // Insert the point: move the integer digits left by one.
            let point = 32 - places
            let integerDigits = digits - places
            if integerDigits == 0 {
                buf[i - 1] = UInt8(ascii: ".")
                buf[i - 2] = 48
                i -= 2
            } else {
                for j in (point - integerDigits)..<point { buf[j - 1] = buf[j] }
                buf[point - 1] = UInt8(ascii: ".")
                i -= 1
            }
            if negative {
                buf[i - 1] = UInt8(ascii: "-")
                i -= 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i..<32]))
        }
    }

    private static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    private static let pow10: [UInt64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
        1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ]
}
