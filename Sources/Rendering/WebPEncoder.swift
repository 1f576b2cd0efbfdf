/// A WebP lossless (VP8L) encoder: subtract-green transform, LZ77 copies of the pixel to the
/// left and the pixel above, one set of five canonical prefix codes.
///
/// Follows the "WebP Lossless Bitstream Specification" (RFC 9649): RIFF container with a
/// `VP8L` chunk, 14-bit sizes, transforms, then the entropy-coded ARGB image. Lossy VP8 is
/// not implemented; map tiles (flat fills, sharp edges) are what lossless compresses well.
public struct WebPEncoder {
    public init() {}

    /// Encodes straight-alpha RGBA pixels.
    public func encode(rgba: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(width >= 1 && height >= 1 && width <= 16384 && height <= 16384 && rgba.count == width * height * 4)
        let n = width * height
        var argb = [UInt32](repeating: 0, count: n)
        var hasAlpha = false
        for i in 0..<n {
            let r = UInt32(rgba[i * 4]), g = UInt32(rgba[i * 4 + 1]), b = UInt32(rgba[i * 4 + 2]), a = UInt32(rgba[i * 4 + 3])
            if a != 255 { hasAlpha = true }
            // Subtract-green transform (§4.4): red and blue are stored as differences to green.
            argb[i] = a << 24 | ((r &- g) & 0xFF) << 16 | g << 8 | ((b &- g) & 0xFF)
        }
        let tokens = WebPEncoder.tokens(argb, width: width)
        var hGreen = [Int](repeating: 0, count: 256 + 24), hRed = [Int](repeating: 0, count: 256)
        var hBlue = [Int](repeating: 0, count: 256), hAlpha = [Int](repeating: 0, count: 256), hDist = [Int](repeating: 0, count: 40)
        for t in tokens {
            if t.length == 0 {
                let p = t.value
                hGreen[Int(p >> 8 & 0xFF)] += 1; hRed[Int(p >> 16 & 0xFF)] += 1
                hBlue[Int(p & 0xFF)] += 1; hAlpha[Int(p >> 24)] += 1
            } else {
                hGreen[256 + WebPEncoder.prefix(Int(t.length)).symbol] += 1
                hDist[WebPEncoder.prefix(Int(t.value)).symbol] += 1
            }
        }
        let codes = [hGreen, hRed, hBlue, hAlpha, hDist].map { PrefixCode(counts: $0, maxLength: 15) }
        var w = LSBBitWriter()
        w.write(0x2F, 8)
        w.write(width - 1, 14)
        w.write(height - 1, 14)
        w.write(hasAlpha ? 1 : 0, 1)
        w.write(0, 3)
        w.write(1, 1) // a transform follows
        w.write(2, 2) // SUBTRACT_GREEN
        w.write(0, 1) // no more transforms
        w.write(0, 1) // no colour cache
        w.write(0, 1) // no meta prefix codes
        for (k, code) in codes.enumerated() {
            WebPEncoder.writeCode(code, counts: [hGreen, hRed, hBlue, hAlpha, hDist][k], into: &w)
        }
        let used = codes.map { c in c.lengths.filter { $0 > 0 }.count }
        func emit(_ k: Int, _ s: Int) {
            if used[k] > 1 { w.write(Int(codes[k].codes[s]), Int(codes[k].lengths[s])) }
        }
        for t in tokens {
            if t.length == 0 {
                let p = t.value
                emit(0, Int(p >> 8 & 0xFF)); emit(1, Int(p >> 16 & 0xFF)); emit(2, Int(p & 0xFF)); emit(3, Int(p >> 24))
            } else {
                let l = WebPEncoder.prefix(Int(t.length))
                emit(0, 256 + l.symbol)
                w.write(l.extra, l.extraBits)
                let d = WebPEncoder.prefix(Int(t.value))
                emit(4, d.symbol)
                w.write(d.extra, d.extraBits)
            }
        }
        var chunk = w.finish()
        let chunkSize = chunk.count
        if chunk.count % 2 == 1 { chunk.append(0) }
        var out: [UInt8] = Array("RIFF".utf8)
        out.appendLittleEndian(UInt32(4 + 8 + chunk.count))
        out += Array("WEBPVP8L".utf8)
        out.appendLittleEndian(UInt32(chunkSize))
        out += chunk
        return out
    }

    /// A literal pixel (`length` 0, `value` the ARGB) or a copy (`length` pixels from the
    /// distance code `value`: 2 is the pixel to the left, 1 the pixel above, §5.2.2).
    struct Token {
        var value: UInt32
        var length: UInt16
    }

    /// Greedy LZ77 over the two distances that matter for maps: left (runs) and up (repeats of the row above).
    static func tokens(_ px: [UInt32], width: Int) -> [Token] {
        var out: [Token] = []
        out.reserveCapacity(px.count / 4)
        let n = px.count
        var i = 0
        px.withUnsafeBufferPointer { p in
            while i < n {
                var bestLen = 0, bestCode: UInt32 = 0
                if i >= 1 {
                    var l = 0
                    while i + l < n && l < 4096 && p[i + l] == p[i + l - 1] { l += 1 }
                    if l > bestLen { bestLen = l; bestCode = 2 }
                }
                if i >= width {
                    var l = 0
                    while i + l < n && l < 4096 && p[i + l] == p[i + l - width] { l += 1 }
                    if l > bestLen { bestLen = l; bestCode = 1 }
                }
                if bestLen >= 3 {
                    out.append(Token(value: bestCode, length: UInt16(bestLen)))
                    i += bestLen
                } else {
                    out.append(Token(value: p[i], length: 0))
                    i += 1
                }
            }
        }
        return out
    }

    /// The prefix coding of a length or distance value ≥ 1 (§5.2.2): symbol, extra bits, their count.
    static func prefix(_ value: Int) -> (symbol: Int, extraBits: Int, extra: Int) {
        let d = value - 1
        if d < 4 { return (d, 0, 0) }
        var h = 0
        while (d >> (h + 1)) != 0 { h += 1 }
        let second = (d >> (h - 1)) & 1
        let extraBits = h - 1
        return (2 * h + second, extraBits, d & ((1 << extraBits) - 1))
    }

    /// The order code-length code lengths are written in (§6.2.2, `kCodeLengthCodeOrder`).
    static let codeLengthOrder = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]

    /// Writes one prefix code: the simple form for up to two small symbols, else code lengths
    /// run-length coded with a code-length code.
    static func writeCode(_ code: PrefixCode, counts: [Int], into w: inout LSBBitWriter) {
        let used = code.lengths.indices.filter { code.lengths[$0] > 0 }
        if used.count <= 2 && used.allSatisfy({ $0 < 256 }) {
            w.write(1, 1)
            if used.isEmpty {
                w.write(0, 1); w.write(0, 1); w.write(0, 1)
            } else if used.count == 1 {
                w.write(0, 1)
                if used[0] < 2 { w.write(0, 1); w.write(used[0], 1) } else { w.write(1, 1); w.write(used[0], 8) }
            } else {
                w.write(1, 1); w.write(1, 1); w.write(used[0], 8); w.write(used[1], 8)
            }
            return
        }
        w.write(0, 1)
        // Run-length code the lengths: 0–15 literal, 16 repeat previous non-zero 3–6×,
        // 17 zeros 3–10×, 18 zeros 11–138×.
        var symbols: [(symbol: Int, extra: Int, bits: Int)] = []
        let lengths = code.lengths.map(Int.init)
        var i = 0
        var previous = 8
        while i < lengths.count {
            let v = lengths[i]
            var run = 1
            while i + run < lengths.count && lengths[i + run] == v { run += 1 }
            if v == 0 {
                var left = run
                while left > 0 {
                    if left >= 11 { let k = min(138, left); symbols.append((18, k - 11, 7)); left -= k }
                    else if left >= 3 { symbols.append((17, left - 3, 3)); left = 0 }
                    else { symbols.append((0, 0, 0)); left -= 1 }
                }
            } else {
                var left = run
                if v != previous { symbols.append((v, 0, 0)); left -= 1; previous = v }
                while left > 0 {
                    if left >= 3 { let k = min(6, left); symbols.append((16, k - 3, 2)); left -= k }
                    else { symbols.append((v, 0, 0)); left -= 1 }
                }
            }
            i += run
        }
        var hist = [Int](repeating: 0, count: 19)
        for s in symbols { hist[s.symbol] += 1 }
        let lengthCode = PrefixCode(counts: hist, maxLength: 7)
        var count = 19
        while count > 4 && lengthCode.lengths[codeLengthOrder[count - 1]] == 0 { count -= 1 }
        w.write(count - 4, 4)
        for k in 0..<count { w.write(Int(lengthCode.lengths[codeLengthOrder[k]]), 3) }
        w.write(0, 1) // max_symbol is the alphabet size
        let single = hist.filter { $0 > 0 }.count == 1
        for s in symbols {
            if !single { w.write(Int(lengthCode.codes[s.symbol]), Int(lengthCode.lengths[s.symbol])) }
            if s.bits > 0 { w.write(s.extra, s.bits) }
        }
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian(_ v: UInt32) {
        append(UInt8(v & 0xFF)); append(UInt8(v >> 8 & 0xFF)); append(UInt8(v >> 16 & 0xFF)); append(UInt8(v >> 24))
    }
}
