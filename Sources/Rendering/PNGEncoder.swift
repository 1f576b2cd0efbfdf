/// Writes PNG files (ISO/IEC 15948, PNG 2nd edition): truecolour with alpha, or indexed
/// colour with a `tRNS` alpha table.
///
/// Truecolour rows get the filter whose output has the smallest sum of absolute values (as
/// signed bytes): libpng's default heuristic (PNG §12.8, "minimum sum of absolute
/// differences"). Indexed rows are left unfiltered, as §12.8 recommends for palette images.
public struct PNGEncoder {
    private let deflate: Deflate

    public init(compressionLevel: Int32 = 6) {
        deflate = Deflate(level: compressionLevel)
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
    static func filterRows(_ px: [UInt8], rowBytes: Int, height: Int, bytesPerPixel bpp: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        var candidates = [[UInt8]](repeating: [UInt8](repeating: 0, count: rowBytes), count: 5)
        px.withUnsafeBufferPointer { p in
            for y in 0..<height {
                let row = y * rowBytes, prev = (y - 1) * rowBytes
                var best = 0, bestSum = Int.max
                for f in 0..<5 {
                    var sum = 0
                    candidates[f].withUnsafeMutableBufferPointer { c in
                        for i in 0..<rowBytes {
                            let x = p[row + i]
                            let a: UInt8 = i >= bpp ? p[row + i - bpp] : 0
                            let b: UInt8 = y > 0 ? p[prev + i] : 0
                            let cc: UInt8 = (i >= bpp && y > 0) ? p[prev + i - bpp] : 0
                            let v: UInt8
                            switch f {
                            case 0: v = x
                            case 1: v = x &- a
                            case 2: v = x &- b
                            case 3: v = x &- UInt8((UInt16(a) + UInt16(b)) / 2)
                            default: v = x &- paeth(a, b, cc)
                            }
                            c[i] = v
                            sum += v < 128 ? Int(v) : 256 - Int(v)
                        }
                    }
                    if sum < bestSum { bestSum = sum; best = f }
                    if sum == 0 { break }
                }
                let o = y * (rowBytes + 1)
                out[o] = UInt8(best)
                candidates[best].withUnsafeBufferPointer { c in
                    out.withUnsafeMutableBufferPointer { dst in
                        for i in 0..<rowBytes { dst[o + 1 + i] = c[i] }
                    }
                }
            }
        }
        return out
    }

    /// The Paeth predictor (PNG §9.4).
    @inline(__always)
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ v: UInt32) {
        append(UInt8(v >> 24)); append(UInt8(v >> 16 & 0xFF)); append(UInt8(v >> 8 & 0xFF)); append(UInt8(v & 0xFF))
    }
}
