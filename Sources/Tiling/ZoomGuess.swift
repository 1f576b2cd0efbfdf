#if canImport(Glibc)
import Glibc
#endif

/// Chooses a maxzoom from the data, the way tippecanoe's `-zg` does: the zoom at which the
/// features' typical spacing, or the typical spacing of their vertices, is resolved by the
/// tile grid (4096 units per tile), capped at 14.
///
/// Two estimates, each a geometric mean because such distances are roughly log-normal:
/// - **feature spacing**: each feature's first position is put on a Z-order (Morton) curve of
///   32-bit world coordinates; the distance between neighbours along the curve stands for the
///   distance between neighbouring features (the zoom where it reaches one tile unit);
/// - **detail**: the length of the segments of lines and polygon rings (the zoom where an
///   eighth of it reaches one tile unit, so shapes keep their detail).
/// The larger zoom wins. Memory is bounded: at most `sampleLimit` feature positions are kept
/// (a deterministic reservoir sample), and the spacing is corrected for the sampling.
public struct ZoomGuess: Sendable {
    /// The highest zoom the guess may choose.
    public static let cap = 14
    /// 2^12 = 4096 units per tile, as tippecanoe's default detail.
    static let detailBits = 12.0
    static let sampleLimit = 200_000

    private var codes: [UInt64] = []
    private var seen = 0
    private var random: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var logSegmentSum = 0.0
    private var segmentCount = 0

    public init() {}

    /// Notes one feature: its first position for the spacing, its segments for the detail.
    mutating func add(points: [WorldPoint], lines: [[WorldPoint]], polygons: [[[WorldPoint]]]) {
        if let first = points.first ?? lines.first?.first ?? polygons.first?.first?.first { addLocation(first) }
        for p in points.dropFirst() { addLocation(p) }
        for line in lines { addSegments(line) }
        for polygon in polygons { for ring in polygon { addSegments(ring) } }
    }

    /// The chosen zoom (0…`cap`, at least `minzoom`) and a sentence saying why; nil when the
    /// data has fewer than two distinct locations and no segments.
    public func choose(minzoom: Int = 0) -> (zoom: Int, reason: String)? {
        var zoom: Int?
        var reasons: [String] = []
        if let spacing = featureSpacing() {
            let z = Int((log2(1 / spacing) - ZoomGuess.detailBits).rounded(.up))
            zoom = z
            reasons.append("typical feature spacing \(ZoomGuess.describe(spacing)) → z\(max(0, z))")
        }
        if segmentCount > 0 {
            let length = exp(logSegmentSum / Double(segmentCount))
            let z = Int((log2(8 / length) - ZoomGuess.detailBits).rounded(.up))
            zoom = max(zoom ?? z, z)
            reasons.append("typical vertex spacing \(ZoomGuess.describe(length)) → z\(max(0, z))")
        }
        guard let zoom else { return nil }
        let chosen = min(ZoomGuess.cap, max(minzoom, zoom))
        let capped = zoom > ZoomGuess.cap ? " (capped at \(ZoomGuess.cap))" : ""
        return (chosen, reasons.joined(separator: "; ") + capped)
    }

    private mutating func addLocation(_ p: WorldPoint) {
        let code = ZoomGuess.morton(p)
        seen += 1
        if codes.count < ZoomGuess.sampleLimit {
            codes.append(code)
            return
        }
        // Reservoir sampling (Algorithm R) with a fixed-seed xorshift, so a guess is repeatable.
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        let slot = Int(random % UInt64(seen))
        if slot < codes.count { codes[slot] = code }
    }

    private mutating func addSegments(_ line: [WorldPoint]) {
        guard line.count > 1 else { return }
        for i in 1..<line.count {
            let d = hypot(line[i].x - line[i - 1].x, line[i].y - line[i - 1].y)
            if d > 0 {
                logSegmentSum += log(d)
                segmentCount += 1
            }
        }
    }

    /// The geometric mean distance between neighbours on the Z-order curve, as a fraction of
    /// the world's width; nil with fewer than two distinct locations.
    private func featureSpacing() -> Double? {
        let sorted = codes.sorted()
        var sum = 0.0
        var count = 0
        for i in sorted.indices.dropFirst() where sorted[i] != sorted[i - 1] {
            sum += log(Double(sorted[i] - sorted[i - 1]))
            count += 1
        }
        guard count > 0 else { return nil }
        // A sample of n out of N spreads the locations N/n times wider along the curve.
        let sampling = log(Double(seen) / Double(codes.count))
        let indexDistance = exp(sum / Double(count) - sampling)
        // The curve interleaves two 32-bit coordinates: its distances are areas, so the
        // square root is a length in 2^32 units.
        return indexDistance.squareRoot() / 4_294_967_296
    }

    /// Interleaves the 32-bit x and y of a world point (Morton / Z-order code).
    static func morton(_ p: WorldPoint) -> UInt64 {
        func spread(_ v: Double) -> UInt64 {
            var x = UInt64(max(0, min(4_294_967_295, (v * 4_294_967_296).rounded(.down))))
            x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF
            x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF
            x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F
            x = (x | (x << 2)) & 0x3333_3333_3333_3333
            x = (x | (x << 1)) & 0x5555_5555_5555_5555
            return x
        }
        return spread(p.x) | (spread(p.y) << 1)
    }

    /// A world-fraction length in metres or kilometres at the equator.
    static func describe(_ fraction: Double) -> String {
        let metres = fraction * 40_075_016.686
        return metres >= 1000 ? "\(Int((metres / 1000).rounded())) km" : "\(Int(metres.rounded())) m"
    }
}

extension ZoomGuess {
    /// The guess's evidence as bytes (little-endian: seen, random, segment count, log-sum bits,
    /// then the sampled codes), so an incremental publish can go on adding features to it.
    var stateBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + codes.count * 8)
        for v in [UInt64(seen), random, UInt64(segmentCount), logSegmentSum.bitPattern] + codes {
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
        }
        return out
    }

    /// Restores a guess saved with `stateBytes`; nil when the bytes are not one.
    init?(stateBytes b: ArraySlice<UInt8>) {
        guard b.count >= 32, b.count % 8 == 0 else { return nil }
        var words: [UInt64] = []
        words.reserveCapacity(b.count / 8)
        var i = b.startIndex
        while i < b.endIndex {
            var v: UInt64 = 0
            for j in 0..<8 { v |= UInt64(b[i + j]) << (8 * UInt64(j)) }
            words.append(v)
            i += 8
        }
        self.init()
        seen = Int(words[0])
        random = words[1]
        segmentCount = Int(words[2])
        logSegmentSum = Double(bitPattern: words[3])
        codes = Array(words[4...])
    }
}
