#if canImport(Glibc)
import Glibc
#endif
import CZlib

/// Writes PNG files (ISO/IEC 15948, PNG 2nd edition): truecolour with alpha, or indexed
/// colour with a `tRNS` alpha table.
///
/// Truecolour rows get the filter whose output has the smallest sum of absolute values (as
/// signed bytes): libpng's default heuristic (PNG §12.8, "minimum sum of absolute
/// differences"). Indexed rows are left unfiltered, as §12.8 recommends for palette images.
public struct PNGEncoder {
    private let deflate: Deflate

    /// `strategy` is zlib's: `Z_RLE` (run-length matches only) suits filtered map tiles — on
    /// the Natural Earth benchmark tiles it is both faster and 10 % smaller than the default.
    public init(compressionLevel: Int32 = 6, strategy: Int32 = Z_DEFAULT_STRATEGY) {
        deflate = Deflate(level: compressionLevel, strategy: strategy)
    }

    /// Encodes straight-alpha RGBA pixels as colour type 6, bit depth 8.
    public func encodeRGBA(_ rgba: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(rgba.count == width * height * 4, "RGBA buffer does not match the size")
        let filtered = PNGEncoder.filterRows(rgba, rowBytes: width * 4, height: height, bytesPerPixel: 4)
        return file(width: width, height: height, colourType: 6, bitDepth: 8, extra: [], idat: deflate.compress(filtered))
    }

    /// Encodes palette indices (one byte per pixel) with `palette` entries (straight alpha) as
    /// colour type 3; `tRNS` is written when some entry is not opaque, trimmed after the last one.
    public func encodeIndexed(_ indices: [UInt8], palette: [RenderColor], width: Int, height: Int) -> [UInt8] {
        precondition(indices.count == width * height && !palette.isEmpty && palette.count <= 256)
        let depth: Int = palette.count <= 2 ? 1 : palette.count <= 4 ? 2 : palette.count <= 16 ? 4 : 8
        let rowBytes = (width * depth + 7) / 8
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        for y in 0..<height {
            let base = y * (rowBytes + 1) + 1
            for x in 0..<width {
                let v = indices[y * width + x]
                let bit = x * depth
                raw[base + bit / 8] |= v << UInt8(8 - depth - bit % 8)
            }
        }
        var plte: [UInt8] = []
        for c in palette { plte += [c.r, c.g, c.b] }
        var extra: [(String, [UInt8])] = [("PLTE", plte)]
        if let last = palette.lastIndex(where: { $0.a != 255 }) {
            extra.append(("tRNS", palette[...last].map(\.a)))
        }
        return file(width: width, height: height, colourType: 3, bitDepth: UInt8(depth), extra: extra, idat: deflate.compress(raw))
    }

    private func file(width: Int, height: Int, colourType: UInt8, bitDepth: UInt8, extra: [(String, [UInt8])], idat: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = []
        ihdr.appendBigEndian(UInt32(width))
        ihdr.appendBigEndian(UInt32(height))
        ihdr += [bitDepth, colourType, 0, 0, 0]
        PNGEncoder.chunk("IHDR", ihdr, into: &out)
        for (type, data) in extra { PNGEncoder.chunk(type, data, into: &out) }
        PNGEncoder.chunk("IDAT", idat, into: &out)
        PNGEncoder.chunk("IEND", [], into: &out)
        return out
    }

    static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        out.appendBigEndian(UInt32(data.count))
        let typed = Array(type.utf8) + data
        out += typed
        out.appendBigEndian(Deflate.crc32(typed))
    }

    /// Prefixes every row with the filter type (PNG §9.2) that minimises the sum of absolute
    /// signed filtered bytes, and filters it.
    ///
    /// One pass over a row scores all five filters without storing them, a second writes the
    /// winner straight into the output; a row equal to the one above is `Up` (all zeros)
    /// without scoring. The first `bpp` bytes of a row (no left neighbour) are handled apart,
    /// so the inner loops have no branches.
    static func filterRows(_ px: [UInt8], rowBytes: Int, height: Int, bytesPerPixel bpp: Int) -> [UInt8] {
        precondition(px.count >= rowBytes * height && rowBytes >= bpp && bpp > 0)
        let zero = [UInt8](repeating: 0, count: rowBytes)
        return [UInt8](unsafeUninitializedCapacity: (rowBytes + 1) * height) { out, written in
            px.withUnsafeBufferPointer { all in
                zero.withUnsafeBufferPointer { z in
                    let base = all.baseAddress!
                    for y in 0..<height {
                        let cur = base + y * rowBytes
                        let prev = y > 0 ? base + (y - 1) * rowBytes : z.baseAddress!
                        let dst = out.baseAddress! + y * (rowBytes + 1)
                        let f = y > 0 && memcmp(cur, prev, rowBytes) == 0 ? 2 : bestFilter(cur, prev, rowBytes, bpp)
                        dst[0] = UInt8(f)
                        apply(filter: f, cur, prev, rowBytes, bpp, into: dst + 1)
                    }
                }
            }
            written = (rowBytes + 1) * height
        }
    }

    /// The filter type whose output has the smallest sum of |signed byte| (ties: the lower type).
    private static func bestFilter(_ cur: UnsafePointer<UInt8>, _ prev: UnsafePointer<UInt8>, _ n: Int, _ bpp: Int) -> Int {
        let s = filterScores(cur, prev, n, bpp)
        var best = 0
        for f in 1..<5 where s[f] < s[best] { best = f }
        return best
    }

    /// For each filter type 0…4, the sum over the row of |filtered byte| read as a signed byte.
    ///
    /// Sixteen bytes at a time in 16-bit lanes, every filter branch-free (Paeth by selects);
    /// the lane sums are flushed to `Int` before they could overflow.
    static func filterScores(_ cur: UnsafePointer<UInt8>, _ prev: UnsafePointer<UInt8>, _ n: Int, _ bpp: Int) -> SIMD8<Int> {
        typealias Lanes = SIMD16<Int16>
        // Only shifts and bitwise operations: comparisons and selects on SIMD masks compile to
        // lane-by-lane loops, so signs are spread with `&>> 15` and selects are and/or.
        @inline(__always) func abs(_ v: Lanes) -> Lanes {
            let sign = v &>> 15
            return (v ^ sign) &- sign
        }
        /// |d read as a signed byte|: sign-extend the low byte, then take the absolute value.
        @inline(__always) func magnitude(_ d: Lanes) -> Lanes { abs((d &<< 8) &>> 8) }
        @inline(__always) func load(_ p: UnsafePointer<UInt8>) -> Lanes {
            Lanes(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt8>.self))
        }
        @inline(__always) func paeth(_ a: Lanes, _ b: Lanes, _ c: Lanes) -> Lanes {
            let pa = abs(b &- c), pb = abs(a &- c), pc = abs(a &+ b &- c &- c)
            let notB = (pc &- pb) &>> 15                          // all ones where pb > pc
            let bc = (b & ~notB) | (c & notB)
            let notA = ((pb &- pa) &>> 15) | ((pc &- pa) &>> 15)  // all ones where pa > pb or pa > pc
            return (a & ~notA) | (bc & notA)
        }
        var total = SIMD8<Int>()
        @inline(__always) func mag(_ v: UInt8) -> Int { Int(Int8(bitPattern: v).magnitude) }
        // The first pixel has no left neighbour: a = c = 0, so Sub is None and Paeth is Up.
        for i in 0..<min(bpp, n) {
            let x = cur[i], b = prev[i]
            total &+= SIMD8<Int>(mag(x), mag(x), mag(x &- b), mag(x &- b >> 1), mag(x &- b), 0, 0, 0)
        }
        var i = bpp
        while i + 16 <= n {
            var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes(), s4 = Lanes()
            var k = 0
            while k < 128 && i + 16 <= n {
                let x = load(cur + i), a = load(cur + i - bpp), b = load(prev + i), c = load(prev + i - bpp)
                s0 &+= magnitude(x)
                s1 &+= magnitude(x &- a)
                s2 &+= magnitude(x &- b)
                s3 &+= magnitude(x &- ((a &+ b) &>> 1))
                s4 &+= magnitude(x &- paeth(a, b, c))
                i += 16
                k += 1
            }
            total &+= SIMD8<Int>(sum(s0), sum(s1), sum(s2), sum(s3), sum(s4), 0, 0, 0)
        }
        while i < n {
            let x = cur[i], a = cur[i - bpp], b = prev[i], c = prev[i - bpp]
            total &+= SIMD8<Int>(mag(x), mag(x &- a), mag(x &- b), mag(x &- UInt8((UInt16(a) &+ UInt16(b)) >> 1)), mag(x &- PNGEncoder.paeth(a, b, c)), 0, 0, 0)
            i += 1
        }
        return total
    }

    /// The sum of the 16 lanes (each at most 128 × 128), by halving: wrappedSum() on 16 lanes
    /// compiles to a lane-by-lane loop through memory.
    @inline(__always)
    private static func sum(_ v: SIMD16<Int16>) -> Int {
        let w = SIMD8<Int32>(truncatingIfNeeded: v.lowHalf) &+ SIMD8<Int32>(truncatingIfNeeded: v.highHalf)
        let q = w.lowHalf &+ w.highHalf
        return Int(q[0] &+ q[1] &+ q[2] &+ q[3])
    }

    /// Writes row `cur` filtered with type `f` (PNG §9.2) to `dst`.
    private static func apply(filter f: Int, _ cur: UnsafePointer<UInt8>, _ prev: UnsafePointer<UInt8>, _ n: Int, _ bpp: Int, into dst: UnsafeMutablePointer<UInt8>) {
        switch f {
        case 0:
            dst.update(from: cur, count: n)
        case 1:
            for i in 0..<bpp { dst[i] = cur[i] }
            for i in bpp..<n { dst[i] = cur[i] &- cur[i - bpp] }
        case 2:
            for i in 0..<n { dst[i] = cur[i] &- prev[i] }
        case 3:
            for i in 0..<bpp { dst[i] = cur[i] &- prev[i] >> 1 }
            for i in bpp..<n { dst[i] = cur[i] &- UInt8((UInt16(cur[i - bpp]) &+ UInt16(prev[i])) >> 1) }
        default:
            for i in 0..<bpp { dst[i] = cur[i] &- prev[i] }
            for i in bpp..<n { dst[i] = cur[i] &- paeth(cur[i - bpp], prev[i], prev[i - bpp]) }
        }
    }

    /// The Paeth predictor (PNG §9.4).
    @inline(__always)
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let ia = Int(a), ib = Int(b), ic = Int(c)
        let pa = abs(ib - ic), pb = abs(ia - ic), pc = abs(ia + ib - 2 * ic)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ v: UInt32) {
        append(UInt8(v >> 24)); append(UInt8(v >> 16 & 0xFF)); append(UInt8(v >> 8 & 0xFF)); append(UInt8(v & 0xFF))
    }
}
