/// A point in tile coordinates (0…extent, y down), after quantisation.
public struct TilePoint: Sendable, Hashable {
    public var x: Int32
    public var y: Int32
    public init(x: Int32, y: Int32) {
        self.x = x
        self.y = y
    }
}

/// MVT geometry types (`vector_tile.proto` `GeomType`).
public enum MVTGeometryType: UInt32, Sendable {
    case unknown = 0
    case point = 1
    case lineString = 2
    case polygon = 3
}

/// Encodes and decodes MVT 2.1 geometry command streams (spec §4.3).
///
/// Commands are `(id & 0x7) | (count << 3)`: MoveTo 1, LineTo 2, ClosePath 7; parameters are
/// zig-zag encoded deltas from the cursor, which persists across parts and is not moved by
/// ClosePath. Encoding drops zero-length LineTo segments (§4.3.3.2) and orients polygon rings:
/// exterior rings clockwise in tile space (positive surveyor's-formula area, §4.3.4.4), holes
/// counter-clockwise, each hole after its exterior.
public enum MVTGeometry {
    static let moveTo: UInt32 = 1
    static let lineTo: UInt32 = 2
    static let closePath: UInt32 = 7

    @inline(__always) static func command(_ id: UInt32, _ count: Int) -> UInt32 { id | UInt32(count) << 3 }
    @inline(__always) static func zigzag(_ n: Int32) -> UInt32 { UInt32(bitPattern: (n << 1) ^ (n >> 31)) }
    @inline(__always) static func unzigzag(_ n: UInt32) -> Int32 { Int32(bitPattern: (n >> 1) ^ (0 &- (n & 1))) }

    /// Encodes points as one MoveTo with a count (a MultiPoint when more than one).
    public static func encodePoints(_ points: [TilePoint]) -> [UInt32] {
        guard !points.isEmpty else { return [] }
        var out: [UInt32] = [command(moveTo, points.count)]
        out.reserveCapacity(1 + points.count * 2)
        var cx: Int32 = 0, cy: Int32 = 0
        for p in points {
            out.append(zigzag(p.x &- cx))
            out.append(zigzag(p.y &- cy))
            cx = p.x
            cy = p.y
        }
        return out
    }

    /// Encodes lines; repeated points are skipped and lines with fewer than two distinct points dropped.
    public static func encodeLines(_ lines: [[TilePoint]]) -> [UInt32] {
        var out: [UInt32] = []
        var cx: Int32 = 0, cy: Int32 = 0
        for line in lines {
            let pts = dedupe(line, closed: false)
            guard pts.count >= 2 else { continue }
            appendPath(pts, into: &out, cx: &cx, cy: &cy)
        }
        return out
    }

    /// Encodes polygons given as rings (first exterior, then holes) per polygon.
    ///
    /// Rings may be closed or open and have either orientation; they are re-oriented here.
    /// Rings with fewer than three distinct points or zero area are dropped; a polygon whose
    /// exterior is dropped loses its holes too.
    public static func encodePolygons(_ polygons: [[[TilePoint]]]) -> [UInt32] {
        var out: [UInt32] = []
        var cx: Int32 = 0, cy: Int32 = 0
        for polygon in polygons {
            for (i, ring) in polygon.enumerated() {
                var pts = dedupe(ring, closed: true)
                guard pts.count >= 3 else {
                    if i == 0 { break } else { continue }
                }
                let area = signedArea2(pts)
                guard area != 0 else {
                    if i == 0 { break } else { continue }
                }
                if (i == 0) != (area > 0) { pts.reverse() }
                appendPath(pts, into: &out, cx: &cx, cy: &cy)
                out.append(command(closePath, 1))
            }
        }
        return out
    }

    private static func appendPath(_ pts: [TilePoint], into out: inout [UInt32], cx: inout Int32, cy: inout Int32) {
        out.append(command(moveTo, 1))
        out.append(zigzag(pts[0].x &- cx))
        out.append(zigzag(pts[0].y &- cy))
        out.append(command(lineTo, pts.count - 1))
        cx = pts[0].x
        cy = pts[0].y
        for p in pts.dropFirst() {
            out.append(zigzag(p.x &- cx))
            out.append(zigzag(p.y &- cy))
            cx = p.x
            cy = p.y
        }
    }

    /// Removes consecutive duplicates (and, for rings, the closing repeat of the first point).
    static func dedupe(_ pts: [TilePoint], closed: Bool) -> [TilePoint] {
        var out: [TilePoint] = []
        out.reserveCapacity(pts.count)
        for p in pts where out.last != p { out.append(p) }
        if closed { while out.count > 1 && out.last == out.first { out.removeLast() } }
        return out
    }

    /// Twice the signed area (surveyor's formula in tile space: positive = clockwise on screen).
    ///
    /// Each cross product fits in 64 bits but their differences and sums need not (a decoded
    /// tile may hold Int32-extreme coordinates), so the sum is kept in 128 bits and the result
    /// saturates at the 64-bit limits; its sign is always exact.
    public static func signedArea2(_ ring: [TilePoint]) -> Int64 {
        guard ring.count >= 3 else { return 0 }
        var sum: Int128 = 0
        var prev = ring[ring.count - 1]
        for p in ring {
            sum += Int128(Int64(prev.x) * Int64(p.y)) - Int128(Int64(p.x) * Int64(prev.y))
            prev = p
        }
        return Int64(clamping: sum)
    }

    /// A decoded geometry: parts as lists of points (rings are open: no repeated first point).
    public struct Decoded: Sendable, Equatable {
        public var type: MVTGeometryType
        /// Points: one part per point. Lines: one part per line. Polygons: one part per ring.
        public var parts: [[TilePoint]]
    }

    /// How many extents beyond each edge of the tile a decoded coordinate may lie.
    ///
    /// MVT 2.1 §4.3 lets geometry extend past the extent (the buffer), without a bound; real
    /// writers clip within a fraction of one extent. Anything further is a corrupt or hostile
    /// tile whose coordinates would overflow 32-bit arithmetic in renderers and clients.
    public static let coordinateReach: Int64 = 16

    /// The accepted coordinate range for a layer of `extent`: ±`coordinateReach` extents around the tile.
    static func coordinateLimit(extent: UInt32) -> ClosedRange<Int64> {
        let reach = coordinateReach * Int64(extent)
        return max(-reach, Int64(Int32.min))...min(Int64(extent) + reach, Int64(Int32.max))
    }

    /// Decodes and validates a command stream for `type`.
    ///
    /// Throws `TilingError.invalidTile` for streams the spec forbids (ClosePath outside a
    /// polygon, wrong counts, missing parameters, LineTo before MoveTo) and, given a `limit`
    /// (`coordinateLimit(extent:)`), for coordinates outside it. Cursor arithmetic is done in
    /// 64 bits, so no stream can trap the decoder; without a limit a cursor that leaves Int32
    /// wraps around, as the reference decoders' 32-bit cursors do (mvt-fixtures 049, 050).
    public static func decode(_ cmds: [UInt32], type: MVTGeometryType, limit: ClosedRange<Int64>? = nil) throws(TilingError) -> Decoded {
        var parts: [[TilePoint]] = []
        var i = 0
        var cx: Int32 = 0, cy: Int32 = 0
        func params(_ count: Int) throws(TilingError) -> [TilePoint] {
            guard count <= (cmds.count - i) / 2 else {
                throw .invalidTile("command count \(count) needs \(count * 2) parameters but only \(cmds.count - i) remain")
            }
            var pts: [TilePoint] = []
            pts.reserveCapacity(count)
            for _ in 0..<count {
                // Summed in 64 bits: deltas from a hostile tile may push the cursor past Int32.
                let x = Int64(cx) + Int64(unzigzag(cmds[i])), y = Int64(cy) + Int64(unzigzag(cmds[i + 1]))
                if let limit, !limit.contains(x) || !limit.contains(y) {
                    throw .invalidTile("coordinate (\(x), \(y)) lies more than \(coordinateReach) extents outside the tile; the tile is corrupt or hostile (re-export it with a tiler that clips geometry)")
                }
                cx = Int32(truncatingIfNeeded: x)
                cy = Int32(truncatingIfNeeded: y)
                i += 2
                pts.append(TilePoint(x: cx, y: cy))
            }
            return pts
        }
        while i < cmds.count {
            let c = cmds[i]
            let id = c & 7, count = Int(c >> 3)
            i += 1
            switch (type, id) {
            case (.point, moveTo):
                guard parts.isEmpty else { throw .invalidTile("a point geometry has more than one MoveTo") }
                guard count > 0 else { throw .invalidTile("MoveTo with count 0") }
                parts = try params(count).map { [$0] }
            case (.lineString, moveTo), (.polygon, moveTo):
                guard count == 1 else { throw .invalidTile("MoveTo in a \(type == .polygon ? "polygon" : "linestring") must have count 1, found \(count)") }
                parts.append(try params(1))
                guard i < cmds.count, cmds[i] & 7 == lineTo, cmds[i] >> 3 > 0 else {
                    throw .invalidTile("MoveTo must be followed by a LineTo with at least one point")
                }
            case (.lineString, lineTo), (.polygon, lineTo):
                guard !parts.isEmpty else { throw .invalidTile("LineTo before any MoveTo") }
                guard count > 0 else { throw .invalidTile("LineTo with count 0") }
                parts[parts.count - 1] += try params(count)
                if type == .polygon {
                    guard parts[parts.count - 1].count >= 3 else { throw .invalidTile("a polygon ring has fewer than three points") }
                    guard i < cmds.count, cmds[i] & 7 == closePath else { throw .invalidTile("a polygon ring is not closed with ClosePath") }
                }
            case (.polygon, closePath):
                guard count == 1 else { throw .invalidTile("ClosePath must have count 1, found \(count)") }
                guard !parts.isEmpty else { throw .invalidTile("geometry begins with ClosePath") }
            case (_, closePath):
                throw .invalidTile(parts.isEmpty ? "geometry begins with ClosePath" : "ClosePath is only allowed in polygons (MVT 2.x)")
            default:
                throw .invalidTile("unknown or misplaced command id \(id) for geometry type \(type)")
            }
        }
        guard !parts.isEmpty || type == .unknown else { throw .invalidTile("geometry has no MoveTo") }
        return Decoded(type: type, parts: parts)
    }
}
