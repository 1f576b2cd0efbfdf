/// Reduces an RGBA image to at most 256 colours for indexed PNG: reserved entries for the
/// frequent colours, median cut for the rest, then k-means (Lloyd) refinement.
///
/// Map tiles are mostly flat fills plus anti-aliased edges. Every colour that covers at least
/// 1/1024 of the image (up to half the palette) keeps an exact palette entry, so fills never shift or band; median cut
/// (Heckbert 1982) splits the remaining edge colours by their weighted median along the widest
/// channel, and a few Lloyd iterations move each entry to the mean of the colours it serves.
/// Distances are measured on premultiplied colour plus alpha, so transparent pixels of any
/// colour count as alike.
public struct PaletteQuantizer {
    public let maxColours: Int

    public init(maxColours: Int) {
        precondition((2...256).contains(maxColours), "an indexed PNG has 2 to 256 colours")
        self.maxColours = maxColours
    }

    /// The palette (straight alpha) and one index per pixel of `rgba` (straight alpha).
    public func quantize(_ rgba: [UInt8]) -> (palette: [RenderColor], indices: [UInt8]) {
        let n = rgba.count / 4
        var counts: [UInt32: Int] = [:]
        rgba.withUnsafeBufferPointer { p in
            for i in 0..<n { counts[PaletteQuantizer.key(p, i), default: 0] += 1 }
        }
        let colours = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var palette: [UInt32]
        if colours.count <= maxColours {
            palette = colours.map(\.key)
        } else {
            let threshold = max(4, n / 1024)
            let reserved = colours.prefix(maxColours / 2).filter { $0.value >= threshold }.map(\.key)
            let rest = colours.dropFirst(reserved.count).map { Sample(colour: $0.key, weight: $0.value) }
            var boxes = [Box(samples: rest)]
            while boxes.count < maxColours - reserved.count, let i = boxes.indices.filter({ boxes[$0].samples.count > 1 }).max(by: { boxes[$0].score < boxes[$1].score }) {
                let (a, b) = boxes[i].split()
                boxes[i] = a
                boxes.append(b)
            }
            palette = reserved + boxes.map(\.mean)
            PaletteQuantizer.refine(&palette, fixed: reserved.count, samples: rest)
        }
        // Map every distinct colour to its nearest entry once.
        var lookup: [UInt32: UInt8] = [:]
        lookup.reserveCapacity(colours.count)
        for (c, _) in colours { lookup[c] = UInt8(PaletteQuantizer.nearest(c, in: palette)) }
        var indices = [UInt8](repeating: 0, count: n)
        rgba.withUnsafeBufferPointer { p in
            for i in 0..<n { indices[i] = lookup[PaletteQuantizer.key(p, i)]! }
        }
        let entries = palette.map { RenderColor(r: UInt8($0 >> 24), g: UInt8($0 >> 16 & 0xFF), b: UInt8($0 >> 8 & 0xFF), a: UInt8($0 & 0xFF)) }
        return (entries, indices)
    }

    /// RGBA as one key; every fully transparent pixel is the same key.
    @inline(__always)
    static func key(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        let a = p[i * 4 + 3]
        if a == 0 { return 0 }
        return UInt32(p[i * 4]) << 24 | UInt32(p[i * 4 + 1]) << 16 | UInt32(p[i * 4 + 2]) << 8 | UInt32(a)
    }

    /// Premultiplied channels of a key, for distances.
    @inline(__always)
    static func channels(_ c: UInt32) -> (Int, Int, Int, Int) {
        let a = Int(c & 0xFF)
        return (Int(c >> 24) * a / 255, Int(c >> 16 & 0xFF) * a / 255, Int(c >> 8 & 0xFF) * a / 255, a)
    }

    static func distance(_ x: UInt32, _ y: UInt32) -> Int {
        let a = channels(x), b = channels(y)
        let d0 = a.0 - b.0, d1 = a.1 - b.1, d2 = a.2 - b.2, d3 = a.3 - b.3
        return d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3
    }

    static func nearest(_ c: UInt32, in palette: [UInt32]) -> Int {
        var best = 0, bestD = Int.max
        for (i, p) in palette.enumerated() {
            let d = distance(c, p)
            if d < bestD { bestD = d; best = i; if d == 0 { break } }
        }
        return best
    }

    /// Lloyd iterations: entries after `fixed` move to the weighted mean of the samples nearest to them.
    static func refine(_ palette: inout [UInt32], fixed: Int, samples: [Sample]) {
        guard palette.count > fixed else { return }
        for _ in 0..<3 {
            var sums = [(Int, Int, Int, Int, Int)](repeating: (0, 0, 0, 0, 0), count: palette.count)
            for s in samples {
                let i = nearest(s.colour, in: palette)
                let c = s.colour
                sums[i].0 += Int(c >> 24) * s.weight; sums[i].1 += Int(c >> 16 & 0xFF) * s.weight
                sums[i].2 += Int(c >> 8 & 0xFF) * s.weight; sums[i].3 += Int(c & 0xFF) * s.weight; sums[i].4 += s.weight
            }
            for i in fixed..<palette.count where sums[i].4 > 0 {
                let w = sums[i].4
                palette[i] = UInt32((sums[i].0 + w / 2) / w) << 24 | UInt32((sums[i].1 + w / 2) / w) << 16 | UInt32((sums[i].2 + w / 2) / w) << 8 | UInt32((sums[i].3 + w / 2) / w)
            }
        }
    }

    struct Sample {
        var colour: UInt32
        var weight: Int
    }

    /// A median-cut box: a set of colours with weights.
    struct Box {
        var samples: [Sample]

        func channel(_ s: Sample, _ k: Int) -> Int { Int(s.colour >> UInt32(24 - 8 * k) & 0xFF) }

        /// The widest channel and its range.
        var widest: (channel: Int, range: Int) {
            var best = (0, -1)
            for k in 0..<4 {
                var lo = 255, hi = 0
                for s in samples { let v = channel(s, k); lo = min(lo, v); hi = max(hi, v) }
                if hi - lo > best.1 { best = (k, hi - lo) }
            }
            return best
        }

        /// Which box to split next: wide boxes that serve many pixels first.
        var score: Int { widest.range * samples.reduce(0) { $0 + $1.weight } }

        var mean: UInt32 {
            var sum = (0, 0, 0, 0), w = 0
            for s in samples {
                sum.0 += channel(s, 0) * s.weight; sum.1 += channel(s, 1) * s.weight
                sum.2 += channel(s, 2) * s.weight; sum.3 += channel(s, 3) * s.weight; w += s.weight
            }
            guard w > 0 else { return 0 }
            return UInt32((sum.0 + w / 2) / w) << 24 | UInt32((sum.1 + w / 2) / w) << 16 | UInt32((sum.2 + w / 2) / w) << 8 | UInt32((sum.3 + w / 2) / w)
        }

        /// Splits at the weighted median of the widest channel.
        func split() -> (Box, Box) {
            let k = widest.channel
            let sorted = samples.sorted { channel($0, k) < channel($1, k) }
            let total = sorted.reduce(0) { $0 + $1.weight }
            var acc = 0, cut = 1
            for (i, s) in sorted.enumerated() {
                acc += s.weight
                if acc * 2 >= total { cut = max(1, min(sorted.count - 1, i + 1)); break }
            }
            return (Box(samples: Array(sorted[..<cut])), Box(samples: Array(sorted[cut...])))
        }
    }
}
