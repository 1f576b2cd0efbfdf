import Foundation
@testable import Rendering
import Tiling
import XCTest

/// The encoders: our PNG is decoded here (inflate + unfilter) and compared pixel for pixel;
/// every format is also handed to the independent decoders when they are installed
/// (Pillow, pngcheck, djpeg, dwebp — Debian python3-pil, pngcheck, libjpeg-turbo-progs, webp).
final class EncoderTests: XCTestCase {
    /// A test picture with what map tiles have: flat fills, anti-aliased edges, transparency.
    static func sampleCanvas(size: Int = 96) -> Canvas {
        let p = Painter(canvas: Canvas(width: size, height: size))
        let s = Double(size)
        p.fill(rings: [[0.1 * s, 0.1 * s, 0.9 * s, 0.2 * s, 0.7 * s, 0.9 * s, 0.15 * s, 0.7 * s]], color: RenderColor(r: 31, g: 119, b: 180).withOpacity(0.4))
        p.stroke(lines: [[0, 0.5 * s, 0.3 * s, 0.3 * s, 0.6 * s, 0.8 * s, s, 0.6 * s]], width: 3, color: RenderColor(r: 214, g: 39, b: 40))
        p.marker(x: 0.5 * s, y: 0.45 * s, diameter: 12, fill: RenderColor(r: 44, g: 160, b: 44), outline: .white, outlineWidth: 1.5)
        return p.canvas
    }

    /// Decodes a PNG written by `PNGEncoder` (8-bit RGBA or indexed, non-interlaced) to straight RGBA.
    static func decodePNG(_ data: [UInt8]) throws -> (width: Int, height: Int, rgba: [UInt8]) {
        XCTAssertEqual(Array(data[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var i = 8
        var width = 0, height = 0, type: UInt8 = 0, depth = 0
        var idat: [UInt8] = [], plte: [UInt8] = [], trns: [UInt8] = []
        func u32(_ k: Int) -> Int { Int(data[k]) << 24 | Int(data[k + 1]) << 16 | Int(data[k + 2]) << 8 | Int(data[k + 3]) }
        while i < data.count {
            let len = u32(i)
            let name = String(decoding: data[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = Array(data[(i + 8)..<(i + 8 + len)])
            XCTAssertEqual(UInt32(u32(i + 8 + len)), Deflate.crc32(Array(data[(i + 4)..<(i + 8 + len)])), "CRC of \(name)")
            switch name {
            case "IHDR": width = u32(i + 8); height = u32(i + 12); depth = Int(body[8]); type = body[9]
            case "PLTE": plte = body
            case "tRNS": trns = body
            case "IDAT": idat += body
            default: break
            }
            i += 12 + len
        }
        let raw = try Gzip.decompress(idat)
        let bpp = type == 6 ? 4 : 1
        let rowBytes = type == 6 ? width * 4 : (width * depth + 7) / 8
        var rows = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            let f = raw[y * (rowBytes + 1)]
            for x in 0..<rowBytes {
                let v = raw[y * (rowBytes + 1) + 1 + x]
                let a = x >= bpp ? rows[y * rowBytes + x - bpp] : 0
                let b = y > 0 ? rows[(y - 1) * rowBytes + x] : 0
                let c = (x >= bpp && y > 0) ? rows[(y - 1) * rowBytes + x - bpp] : 0
                let pred: UInt8 = [0, a, b, UInt8((Int(a) + Int(b)) / 2), PNGEncoder.paeth(a, b, c)][Int(f)]
                rows[y * rowBytes + x] = v &+ pred
            }
        }
        if type == 6 { return (width, height, rows) }
        var rgba: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let bit = x * depth
                let idx = Int(rows[y * rowBytes + bit / 8] >> UInt8(8 - depth - bit % 8)) & ((1 << depth) - 1)
                rgba += [plte[idx * 3], plte[idx * 3 + 1], plte[idx * 3 + 2], idx < trns.count ? trns[idx] : 255]
            }
        }
        return (width, height, rgba)
    }

    func testTruecolourPNGRoundTrips() throws {
        let canvas = EncoderTests.sampleCanvas()
        let png = RasterFormat.png.encode(canvas)
        let decoded = try EncoderTests.decodePNG(png)
        XCTAssertEqual(decoded.width, 96)
        XCTAssertEqual(decoded.rgba, canvas.straightRGBA())
    }

    /// The vectorised filter scores equal the plain per-byte sums of PNG §9.2 (Paeth as §9.4
    /// writes it), for rows whose length is not a multiple of the 16-byte block.
    func testFilterScoresMatchTheSpecPerByte() {
        var rng = SystemRandomNumberGenerator()
        for n in [4, 20, 1020, 1024, 2052] {
            // Runs of repeated bytes with noise, as anti-aliased tiles have.
            let cur = (0..<n).map { i in i % 37 < 20 ? UInt8(i % 7 * 30) : UInt8.random(in: 0...255, using: &rng) }
            let prev = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var expected = [Int](repeating: 0, count: 5)
            for i in 0..<n {
                let x = Int(cur[i]), a = i >= 4 ? Int(cur[i - 4]) : 0, b = Int(prev[i]), c = i >= 4 ? Int(prev[i - 4]) : 0
                let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                let paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                for (f, pred) in [0, a, b, (a + b) / 2, paeth].enumerated() {
                    let v = Int8(truncatingIfNeeded: x - pred)
                    expected[f] += Int(v.magnitude)
                }
            }
            let got = cur.withUnsafeBufferPointer { c in prev.withUnsafeBufferPointer { p in PNGEncoder.filterScores(c.baseAddress!, p.baseAddress!, n, 4) } }
            XCTAssertEqual((0..<5).map { got[$0] }, expected, "row of \(n) bytes")
        }
    }

    /// Un-premultiplying by reciprocal equals the exact rounded division for every α and c ≤ α.
    func testStraightAlphaIsTheRoundedDivision() {
        var canvas = Canvas(width: 256, height: 256)
        for a in 0..<256 { for c in 0..<256 { canvas.pixels[(a * 256 + c) * 4 ..< (a * 256 + c) * 4 + 4] = [UInt8(min(a, c)), UInt8(a / 2), 0, UInt8(a)] } }
        let s = canvas.straightRGBA()
        for a in 1..<255 {
            for c in 0..<256 {
                let v = min(a, c), i = (a * 256 + c) * 4
                XCTAssertEqual(Int(s[i]), (v * 255 + a / 2) / a, "c \(v) alpha \(a)")
                XCTAssertEqual(Int(s[i + 1]), (a / 2 * 255 + a / 2) / a)
            }
        }
    }

    func testIndexedPNGKeepsFillsExactAndStaysSmall() throws {
        let canvas = EncoderTests.sampleCanvas(size: 256)
        let truecolour = RasterFormat.png.encode(canvas).count
        let original = canvas.straightRGBA()
        for n in [32, 64, 128, 256] {
            let png = try RasterFormat(parsing: "png\(n)").encode(canvas)
            let decoded = try EncoderTests.decodePNG(png)
            let distinct = Set(stride(from: 0, to: decoded.rgba.count, by: 4).map { Array(decoded.rgba[$0..<$0 + 4]) })
            XCTAssertLessThanOrEqual(distinct.count, n)
            // The most frequent colours (the fills and the background) are reproduced exactly.
            var counts: [[UInt8]: Int] = [:]
            for k in stride(from: 0, to: original.count, by: 4) { counts[Array(original[k..<k + 4]), default: 0] += 1 }
            for (colour, _) in counts.sorted(by: { $0.value > $1.value }).prefix(4) {
                let k = stride(from: 0, to: original.count, by: 4).first { Array(original[$0..<$0 + 4]) == colour }!
                XCTAssertEqual(Array(decoded.rgba[k..<k + 4]), colour, "png\(n) keeps the fill colour \(colour)")
            }
            let mae = zip(original, decoded.rgba).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
            XCTAssertLessThan(Double(mae) / Double(original.count), 1.5, "png\(n) stays close to the original")
            XCTAssertLessThan(png.count, truecolour, "png\(n) is smaller than truecolour")
        }
    }

    func testFormatNamesFollowTheRasterTilesAPI() throws {
        XCTAssertEqual(try RasterFormat(parsing: "jpg"), .jpeg(quality: 80))
        XCTAssertEqual(try RasterFormat(parsing: "jpg70"), .jpeg(quality: 70))
        XCTAssertEqual(try RasterFormat(parsing: "png128"), .indexedPNG(colours: 128))
        XCTAssertThrowsError(try RasterFormat(parsing: "png512")) { XCTAssertEqual("\($0)", "Invalid quality value 512 for raster format png") }
        XCTAssertThrowsError(try RasterFormat(parsing: "jpg101")) { XCTAssertEqual("\($0)", "Invalid quality value 101 for raster format jpg") }
        XCTAssertThrowsError(try RasterFormat(parsing: "gif"))
        let a = try RasterTileAddress(parsing: "3/4/2@2x.jpg90")
        XCTAssertEqual(a.tile.description, "3/4/2")
        XCTAssertEqual(a.pixelRatio, 2)
        XCTAssertThrowsError(try RasterTileAddress(parsing: "3/4/2@3x.png")) { XCTAssertTrue("\($0)".contains("@2x")) }
        XCTAssertThrowsError(try RasterTileAddress(parsing: "31/0/0.png")) { XCTAssertEqual("\($0)", "Zoom level must be between 0-30.") }
        XCTAssertThrowsError(try RasterTileAddress(parsing: "2/4/0.png")) { XCTAssertEqual($0 as? RenderingError, .tileNotFound) }
        XCTAssertThrowsError(try RasterTileAddress(parsing: "2/1/1")) { XCTAssertTrue("\($0)".contains("no format")) }
    }

    func testJPEGSizeAndQualityScaling() {
        let canvas = EncoderTests.sampleCanvas(size: 64)
        let sizes = [70, 80, 90].map { RasterFormat.jpeg(quality: $0).encode(canvas).count }
        XCTAssertLessThan(sizes[0], sizes[1])
        XCTAssertLessThan(sizes[1], sizes[2])
        XCTAssertEqual(JPEGTables.scaled(JPEGTables.luminance, quality: 50), JPEGTables.luminance)
        XCTAssertEqual(JPEGTables.scaled(JPEGTables.luminance, quality: 80)[0], 6, "IJG: 16 × 40 % rounded")
        XCTAssertEqual(JPEGTables.scaled(JPEGTables.luminance, quality: 10)[0], 80, "IJG: 16 × 500 %")
    }

    func testWebPPrefixCodingOfLengths() {
        // RFC 9649 §5.2.2 decoding, inverted: check every value up to 4096 round-trips.
        for v in 1...4096 {
            let p = WebPEncoder.prefix(v)
            let decoded: Int
            if p.symbol < 4 { decoded = p.symbol + 1 } else {
                let extraBits = (p.symbol - 2) >> 1
                decoded = ((2 + (p.symbol & 1)) << extraBits) + p.extra + 1
                XCTAssertEqual(extraBits, p.extraBits)
            }
            XCTAssertEqual(decoded, v)
        }
        let code = PrefixCode(counts: [5, 0, 1, 1, 1000, 3, 0, 2] + [Int](repeating: 1, count: 300), maxLength: 15)
        // Kraft equality: a complete code, as VP8L decoders demand.
        let kraft = code.lengths.filter { $0 > 0 }.reduce(0.0) { $0 + pow(2, -Double($1)) }
        XCTAssertEqual(kraft, 1, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(Int(code.lengths.max()!), 15)
    }

    // MARK: independent decoders

    private func tool(_ name: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/", "/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    private func run(_ path: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "tiledrop-enc-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testPNGcheckAcceptsEveryPNG() throws {
        guard let pngcheck = tool("pngcheck") else { throw XCTSkip("pngcheck is not installed (apt-get install pngcheck); PNG files not checked by it") }
        for f in ["png", "png32", "png64", "png128", "png256"] {
            let path = try write(try RasterFormat(parsing: f).encode(EncoderTests.sampleCanvas()), "t.\(f).png")
            let r = try run(pngcheck, ["-v", path])
            XCTAssertEqual(r.status, 0, "pngcheck rejects \(f): \(r.output)")
        }
    }

    func testDjpegDecodesJPEG() throws {
        guard let djpeg = tool("djpeg") else { throw XCTSkip("djpeg is not installed (apt-get install libjpeg-turbo-progs); JPEG not checked by it") }
        for q in [70, 80, 90] {
            let path = try write(RasterFormat.jpeg(quality: q).encode(EncoderTests.sampleCanvas(size: 100)), "t.jpg")
            let out = path + ".ppm"
            let r = try run(djpeg, ["-outfile", out, path])
            XCTAssertEqual(r.status, 0, "djpeg rejects q\(q): \(r.output)")
            let ppm = try Data(contentsOf: URL(fileURLWithPath: out))
            XCTAssertTrue(String(decoding: ppm.prefix(15), as: UTF8.self).hasPrefix("P6\n100 100\n255"), "djpeg output header")
        }
    }

    func testDwebpDecodesWebPLosslessExactly() throws {
        guard let dwebp = tool("dwebp") else { throw XCTSkip("dwebp is not installed (apt-get install webp); WebP not checked by it") }
        for size in [1, 17, 96, 256] {
            let canvas = EncoderTests.sampleCanvas(size: max(size, 1))
            let path = try write(RasterFormat.webp.encode(canvas), "t.webp")
            let out = path + ".pam"
            let r = try run(dwebp, [path, "-pam", "-o", out])
            XCTAssertEqual(r.status, 0, "dwebp rejects a \(size) px image: \(r.output)")
            let pam = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
            let header = "ENDHDR\n"
            guard let end = String(decoding: pam.prefix(200), as: UTF8.self).range(of: header) else { return XCTFail("no PAM header") }
            let offset = String(decoding: pam.prefix(200), as: UTF8.self)[..<end.upperBound].utf8.count
            let pixels = Array(pam[offset...])
            let expected = canvas.straightRGBA()
            // Lossless: identical wherever alpha > 0 (decoders may zero colour under alpha 0).
            var diffs = 0
            for k in stride(from: 0, to: expected.count, by: 4) where expected[k + 3] > 0 && Array(expected[k..<k + 4]) != Array(pixels[k..<k + 4]) { diffs += 1 }
            XCTAssertEqual(diffs, 0, "dwebp output differs from the \(size) px original")
        }
    }

    func testPillowDecodesEveryFormat() throws {
        guard let python = tool("python3") else { throw XCTSkip("python3 is not installed; Pillow check skipped") }
        guard try run(python, ["-c", "import PIL"]).status == 0 else { throw XCTSkip("Pillow is not installed (apt-get install python3-pil); Pillow check skipped") }
        let canvas = EncoderTests.sampleCanvas(size: 128)
        for f in ["png", "png64", "png256", "jpg70", "jpg90", "webp"] {
            let path = try write(try RasterFormat(parsing: f).encode(canvas), "t.\(f)")
            let r = try run(python, ["-c", "import sys; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); print(im.format, im.size[0], im.size[1])", path])
            XCTAssertEqual(r.status, 0, "Pillow cannot read \(f): \(r.output)")
            XCTAssertTrue(r.output.contains("128 128"), "Pillow size for \(f): \(r.output)")
        }
    }
}
