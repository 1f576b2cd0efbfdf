/// An RGBA image with premultiplied alpha, the target every drawing operation composites into.
///
/// Premultiplied storage makes "source over" one multiply-add per channel and lets partly
/// covered edge pixels blend correctly on a transparent background (Porter–Duff 1984);
/// encoders call `straightRGBA()` to get the conventional form back.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// Row-major RGBA bytes, premultiplied by alpha.
    public var pixels: [UInt8]

    /// A canvas filled with `background` (transparent by default).
    public init(width: Int, height: Int, background: RenderColor = .transparent) {
        precondition(width > 0 && height > 0, "a canvas needs a positive size")
        self.width = width
        self.height = height
        let a = UInt32(background.a)
        let px: [UInt8] = [
            UInt8((UInt32(background.r) * a + 127) / 255), UInt8((UInt32(background.g) * a + 127) / 255),
            UInt8((UInt32(background.b) * a + 127) / 255), background.a,
        ]
        pixels = [UInt8](unsafeUninitializedCapacity: width * height * 4) { buf, n in
            for i in 0..<(width * height) {
                buf[i * 4] = px[0]; buf[i * 4 + 1] = px[1]; buf[i * 4 + 2] = px[2]; buf[i * 4 + 3] = px[3]
            }
            n = width * height * 4
        }
    }

    /// Composites `color` over the pixels `x0..<x0+coverage.count` of row `y`, each scaled by its coverage (0…1).
    ///
    /// Fixed point: the coverage times the colour's alpha becomes an 8-bit alpha `α`, and each
    /// channel is `(colour·α + dst·(255−α)) / 255`, rounded — one rounding per channel.
    @inline(__always)
    mutating func blendSpan(y: Int, x0: Int, coverage: UnsafeBufferPointer<Float>, color: RenderColor) {
        let r = UInt32(color.r), g = UInt32(color.g), b = UInt32(color.b)
        let ca = Float(color.a)
        let solid = UInt32(color.r) | UInt32(color.g) << 8 | UInt32(color.b) << 16 | 0xFF00_0000
        let w = width
        pixels.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + (y * w + x0) * 4
            for (k, c) in coverage.enumerated() {
                let alpha = UInt32(ca * c + 0.5)
                if alpha == 0 { continue }
                let q = p + k * 4
                if alpha >= 255 {
                    UnsafeMutableRawPointer(q).storeBytes(of: solid.littleEndian, as: UInt32.self)
                    continue
                }
                let keep = 255 - alpha
                q[0] = Canvas.div255(r * alpha + UInt32(q[0]) * keep)
                q[1] = Canvas.div255(g * alpha + UInt32(q[1]) * keep)
                q[2] = Canvas.div255(b * alpha + UInt32(q[2]) * keep)
                q[3] = Canvas.div255(255 * alpha + UInt32(q[3]) * keep)
            }
        }
    }

    /// `x / 255` rounded to nearest, exact for 0…65535 (Blinn's trick).
    @inline(__always)
    static func div255(_ x: UInt32) -> UInt8 {
        let t = x &+ 128
        return UInt8(truncatingIfNeeded: (t &+ (t >> 8)) >> 8)
    }

    /// The pixels with straight alpha (what PNG and WebP store): each channel `c·255/α`, rounded.
    ///
    /// The division is a multiply by `⌈255·2¹⁶/α⌉` and a shift (exact for every `c ≤ α`),
    /// recomputed only when α changes from one pixel to the next — fills are runs of one α.
    public func straightRGBA() -> [UInt8] {
        var out = pixels
        out.withUnsafeMutableBufferPointer { p in
            var lastAlpha = -1, reciprocal = 0
            var i = 0
            let n = p.count
            while i < n {
                let a = Int(p[i + 3])
                if a != 0 && a != 255 {
                    if a != lastAlpha {
                        lastAlpha = a
                        reciprocal = ((255 << 16) + a - 1) / a
                    }
                    p[i] = UInt8(min(255, (Int(p[i]) * reciprocal + 0x8000) >> 16))
                    p[i + 1] = UInt8(min(255, (Int(p[i + 1]) * reciprocal + 0x8000) >> 16))
                    p[i + 2] = UInt8(min(255, (Int(p[i + 2]) * reciprocal + 0x8000) >> 16))
                }
                i += 4
            }
        }
        return out
    }

    /// The pixels composited over an opaque `background`, as RGB triples (what JPEG stores).
    public func rgb(over background: RenderColor = .white) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let bg = [UInt32(background.r), UInt32(background.g), UInt32(background.b)]
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<(width * height) {
                let inv = 255 - UInt32(p[i * 4 + 3])
                for c in 0..<3 {
                    out[i * 3 + c] = UInt8(min(255, UInt32(p[i * 4 + c]) + (bg[c] * inv + 127) / 255))
                }
            }
        }
        return out
    }

    /// The canvas scaled down by `factor` with a box filter (each output pixel is the mean of a
    /// `factor`×`factor` block): compares an `@2x` tile with its 1× counterpart.
    public func downsampled(by factor: Int) -> Canvas {
        precondition(factor >= 1 && width % factor == 0 && height % factor == 0)
        var out = Canvas(width: width / factor, height: height / factor)
        let n = UInt32(factor * factor)
        for y in 0..<out.height {
            for x in 0..<out.width {
                var s: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
                for dy in 0..<factor {
                    var i = ((y * factor + dy) * width + x * factor) * 4
                    for _ in 0..<factor {
                        s.0 += UInt32(pixels[i]); s.1 += UInt32(pixels[i + 1]); s.2 += UInt32(pixels[i + 2]); s.3 += UInt32(pixels[i + 3])
                        i += 4
                    }
                }
                let o = (y * out.width + x) * 4
                out.pixels[o] = UInt8((s.0 + n / 2) / n); out.pixels[o + 1] = UInt8((s.1 + n / 2) / n)
                out.pixels[o + 2] = UInt8((s.2 + n / 2) / n); out.pixels[o + 3] = UInt8((s.3 + n / 2) / n)
            }
        }
        return out
    }
}
