import GeoModel

/// Writes coordinates as the shortest decimal that reads back as the same Double.
///
/// `JSONWriter.writeDouble` uses Swift's `description`, which is correct but builds a
/// `String` per number (a heap allocation for the 17–19 characters a coordinate takes).
/// Coordinates are the bulk of every output line, so this formats them straight into the
/// byte buffer with exact 128-bit integer arithmetic (the Steele–White / Ryu definition:
/// among all decimals inside the double's rounding interval, the one with the fewest
/// digits, and of those the closest to the exact value). It covers the range where
/// `description` prints plain decimal notation, 1e-4 ≤ |d| < 2^53, for non-integral values
/// with a regular rounding interval; everything else (integers, powers of two, tiny and
/// huge values, non-finite) goes to `JSONWriter.writeDouble`, so the text is always exactly
/// what `description` would print (tested against it).
enum DoubleFormatter {
    static func write(_ d: Double, into w: inout JSONWriter) {
        let bits = d.bitPattern
        let biased = Int((bits >> 52) & 0x7FF)
        let fraction = bits & (1 << 52 - 1)
        // |d| in [1e-4, 2^53) and not a power of two (whose interval is asymmetric).
        if biased >= 1023 - 14, biased < 1023 + 53, fraction != 0, d >= 1e-4 || d <= -1e-4,
           appendShortest(negative: bits >> 63 != 0, m: fraction | 1 << 52, e: biased - 1075, into: &w.bytes) {
            return
        }
        w.writeDouble(d)
    }

    /// Formats m·2^e (m a 53-bit significand, e < 0); false when the value is integral or the
    /// arithmetic would not fit 128 bits (the caller then uses the general path).
    static func appendShortest(negative: Bool, m: UInt64, e: Int, into out: inout [UInt8]) -> Bool {
        guard e < 0 else { return false }
        let shift = 1 - e  // bounds are (2m ± 1) / 2^shift
        // s decimal places make the rounding interval (width 10^s / 2^-e) at least 1 wide.
        var s = 0
        while s < 22, pow10[s] < UInt128(1) << (shift - 1) { s += 1 }
        guard pow10[s] >= UInt128(1) << (shift - 1) else { return false }
        let scale = pow10[s]
        let low = UInt128(2 * m - 1) * scale, high = UInt128(2 * m + 1) * scale, exact = UInt128(2 * m) * scale
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
        let v = UInt64(exact >> shift)  // ⌊exact⌋; fractional part is exact & mask
        let p = UInt64(pow10[t])
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
        guard places > 0, k % 10 != 0 || k == 0 else { return false }
        appendDecimal(k, places: places, negative: negative, into: &out)
        return true
    }

    /// Writes k·10^-places as `[-]int.frac` (places > 0, k without trailing zeros).
    private static func appendDecimal(_ k: UInt64, places: Int, negative: Bool, into out: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // scratch space for 24 ASCII digits
        withUnsafeMutableBytes(of: &digits) { buf in
            var n = 0
            var x = k
            repeat {
                buf[23 - n] = UInt8(48 + x % 10)
                x /= 10
                n += 1
            } while x > 0
            while n <= places {
                buf[23 - n] = 48
                n += 1
            }
            if negative { out.append(UInt8(ascii: "-")) }
            let first = 24 - n
            let point = 24 - places
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[first..<point]))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[point..<24]))
        }
    }

    private static let pow10: [UInt128] = (0...38).map { e in
        var v: UInt128 = 1
        for _ in 0..<e { v *= 10 }
        return v
    }
}
