#if canImport(Glibc)
import Glibc
#endif

/// A baseline sequential JPEG encoder (ITU-T T.81, JFIF 1.02): YCbCr 4:2:0, IJG-scaled
/// Annex K quantisation tables, the standard Huffman tables.
///
/// Transparent pixels are composited over the background first (JPEG has no alpha).
public struct JPEGEncoder {
    public let quality: Int
    private let qY: [Float]
    private let qC: [Float]
    private let tableY: [Int]
    private let tableC: [Int]
    private let cosine: [Float]

    public init(quality: Int) {
        self.quality = max(1, min(100, quality))
        tableY = JPEGTables.scaled(JPEGTables.luminance, quality: self.quality)
        tableC = JPEGTables.scaled(JPEGTables.chrominance, quality: self.quality)
        qY = tableY.map { 1 / Float($0) }
        qC = tableC.map { 1 / Float($0) }
        // Orthonormal DCT-II basis (A.3.3): c(u)/2 · cos((2x+1)uπ/16).
        var c = [Float](repeating: 0, count: 64)
        for u in 0..<8 {
            for x in 0..<8 {
                c[u * 8 + x] = Float((u == 0 ? 1 / 2.0.squareRoot() : 1) / 2 * cos(Double(2 * x + 1) * Double(u) * .pi / 16))
            }
        }
        cosine = c
    }

    /// Encodes RGB triples (row-major) as a JFIF file.
    public func encode(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(rgb.count == width * height * 3 && width > 0 && height > 0 && width < 65536 && height < 65536)
        // Colour conversion (JFIF 1.02 §7) into planes padded to whole 16×16 MCUs.
        let pw = (width + 15) / 16 * 16, ph = (height + 15) / 16 * 16
        var yPlane = [Float](repeating: 0, count: pw * ph)
        var cb = [Float](repeating: 0, count: pw * ph), cr = [Float](repeating: 0, count: pw * ph)
        for y in 0..<ph {
            let sy = min(y, height - 1)
            for x in 0..<pw {
                let i = (sy * width + min(x, width - 1)) * 3
                let r = Float(rgb[i]), g = Float(rgb[i + 1]), b = Float(rgb[i + 2])
                yPlane[y * pw + x] = 0.299 * r + 0.587 * g + 0.114 * b - 128
                cb[y * pw + x] = -0.168736 * r - 0.331264 * g + 0.5 * b
                cr[y * pw + x] = 0.5 * r - 0.418688 * g - 0.081312 * b
            }
        }
        var out = headers(width: width, height: height)
        var bits = JPEGBitWriter()
        let dcY = JPEGTables.dcLuminance.codes, acY = JPEGTables.acLuminance.codes
        let dcC = JPEGTables.dcChrominance.codes, acC = JPEGTables.acChrominance.codes
        var predY = 0, predCb = 0, predCr = 0
        var block = [Float](repeating: 0, count: 64)
        for my in stride(from: 0, to: ph, by: 16) {
            for mx in stride(from: 0, to: pw, by: 16) {
                for (bx, by) in [(0, 0), (8, 0), (0, 8), (8, 8)] {
                    for v in 0..<8 { for u in 0..<8 { block[v * 8 + u] = yPlane[(my + by + v) * pw + mx + bx + u] } }
                    encodeBlock(block, quant: qY, dc: dcY, ac: acY, pred: &predY, bits: &bits)
                }
                // 4:2:0: each chroma sample is the mean of a 2×2 block.
                for (plane, isCb) in [(cb, true), (cr, false)] {
                    for v in 0..<8 {
                        for u in 0..<8 {
                            let i = (my + 2 * v) * pw + mx + 2 * u
                            block[v * 8 + u] = (plane[i] + plane[i + 1] + plane[i + pw] + plane[i + pw + 1]) / 4
                        }
                    }
                    if isCb {
                        encodeBlock(block, quant: qC, dc: dcC, ac: acC, pred: &predCb, bits: &bits)
                    } else {
                        encodeBlock(block, quant: qC, dc: dcC, ac: acC, pred: &predCr, bits: &bits)
                    }
                }
            }
        }
        bits.flush()
        out += bits.bytes
        out += [0xFF, 0xD9]
        return out
    }

    /// DCT, quantisation and Huffman coding of one 8×8 block (F.1.2).
    private func encodeBlock(_ block: [Float], quant: [Float], dc: [(code: UInt16, length: UInt8)], ac: [(code: UInt16, length: UInt8)], pred: inout Int, bits: inout JPEGBitWriter) {
        var tmp = [Float](repeating: 0, count: 64)
        var coef = [Int](repeating: 0, count: 64)
        cosine.withUnsafeBufferPointer { c in
            for v in 0..<8 {
                for u in 0..<8 {
                    var s: Float = 0
                    for x in 0..<8 { s += c[u * 8 + x] * block[v * 8 + x] }
                    tmp[v * 8 + u] = s
                }
            }
            for u in 0..<8 {
                for v in 0..<8 {
                    var s: Float = 0
                    for y in 0..<8 { s += c[v * 8 + y] * tmp[y * 8 + u] }
                    coef[v * 8 + u] = Int((s * quant[v * 8 + u]).rounded())
                }
            }
        }
        let diff = coef[0] - pred
        pred = coef[0]
        let cat = JPEGEncoder.category(diff)
        bits.write(dc[cat])
        if cat > 0 { bits.write(bits: UInt32(truncatingIfNeeded: diff < 0 ? diff - 1 : diff) & ((1 << UInt32(cat)) - 1), count: cat) }
        var run = 0
        for k in 1..<64 {
            let v = coef[JPEGTables.zigzag[k]]
            if v == 0 { run += 1; continue }
            while run > 15 { bits.write(ac[0xF0]); run -= 16 }
            let size = JPEGEncoder.category(v)
            bits.write(ac[run << 4 | size])
            bits.write(bits: UInt32(truncatingIfNeeded: v < 0 ? v - 1 : v) & ((1 << UInt32(size)) - 1), count: size)
            run = 0
        }
        if run > 0 { bits.write(ac[0x00]) }
    }

    /// The magnitude category SSSS (F.1.2.1): the bit length of |v|.
    static func category(_ v: Int) -> Int {
        var m = abs(v), n = 0
        while m > 0 { n += 1; m >>= 1 }
        return n
    }

    private func headers(width: Int, height: Int) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        // APP0 JFIF 1.02, no thumbnail, aspect ratio 1:1.
        out += [0xFF, 0xE0, 0, 16, 0x4A, 0x46, 0x49, 0x46, 0, 1, 2, 0, 0, 1, 0, 1, 0, 0]
        // DQT: both tables, 8-bit, zig-zag order.
        out += [0xFF, 0xDB, 0, 132, 0]
        out += JPEGTables.zigzag.map { UInt8(tableY[$0]) }
        out.append(1)
        out += JPEGTables.zigzag.map { UInt8(tableC[$0]) }
        // SOF0: 8-bit, three components, Y sampled 2×2, Cb and Cr 1×1.
        out += [0xFF, 0xC0, 0, 17, 8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3,
                1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
        // DHT: the four standard tables.
        let tables: [(UInt8, JPEGTables.Huffman)] = [(0x00, JPEGTables.dcLuminance), (0x10, JPEGTables.acLuminance),
                                                    (0x01, JPEGTables.dcChrominance), (0x11, JPEGTables.acChrominance)]
        let length = 2 + tables.reduce(0) { $0 + 17 + $1.1.symbols.count }
        out += [0xFF, 0xC4, UInt8(length >> 8), UInt8(length & 0xFF)]
        for (id, t) in tables { out.append(id); out += t.counts; out += t.symbols }
        // SOS: all three components, full spectral range.
        out += [0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]
        return out
    }
}

/// MSB-first bit packing with JPEG's byte stuffing (a 0x00 after every 0xFF, B.1.1.5).
struct JPEGBitWriter {
    var bytes: [UInt8] = []
    private var acc: UInt32 = 0
    private var count = 0

    @inline(__always)
    mutating func write(_ code: (code: UInt16, length: UInt8)) {
        write(bits: UInt32(code.code), count: Int(code.length))
    }

    @inline(__always)
    mutating func write(bits: UInt32, count n: Int) {
        guard n > 0 else { return }
        acc = acc << UInt32(n) | (bits & ((1 << UInt32(n)) - 1))
        count += n
        while count >= 8 {
            let b = UInt8(truncatingIfNeeded: acc >> UInt32(count - 8))
            bytes.append(b)
            if b == 0xFF { bytes.append(0) }
            count -= 8
        }
        acc &= (1 << UInt32(count)) - 1
    }

    /// Pads the last byte with 1-bits (F.1.2.3).
    mutating func flush() {
        if count > 0 { write(bits: (1 << UInt32(8 - count)) - 1, count: 8 - count) }
    }
}
