/// A point in projected space (normalised Web Mercator or pixels at some zoom).
struct WorldPoint: Sendable, Hashable {
    var x: Double
    var y: Double
    init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned rectangle in the same units as the points it clips.
struct ClipRect: Sendable {
    var minX: Double, minY: Double, maxX: Double, maxY: Double
    init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    @inline(__always) func contains(_ p: WorldPoint) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }
}

/// Clips points, lines and polygon rings to a rectangle (the tile plus its buffer).
enum Clipper {
    static func clipPoints(_ pts: [WorldPoint], to r: ClipRect) -> [WorldPoint] {
        pts.filter { r.contains($0) }
    }

    /// Clips a polyline; a line leaving and re-entering the box becomes several lines.
    static func clipLine(_ line: [WorldPoint], to r: ClipRect) -> [[WorldPoint]] {
        guard line.count >= 2 else { return [] }
        var out: [[WorldPoint]] = []
        var current: [WorldPoint] = []
        for i in 0..<(line.count - 1) {
            guard let (a, b) = clipSegment(line[i], line[i + 1], r) else {
                if current.count >= 2 { out.append(current) }
                current = []
                continue
            }
            if current.isEmpty {
                current = [a, b]
            } else if current.last! == a {
                current.append(b)
            } else {
                if current.count >= 2 { out.append(current) }
                current = [a, b]
            }
            if b != line[i + 1] {
                out.append(current)
                current = []
            }
        }
        if current.count >= 2 { out.append(current) }
        return out
    }

    /// Liang–Barsky segment clipping; nil when the segment misses the box.
    static func clipSegment(_ p: WorldPoint, _ q: WorldPoint, _ r: ClipRect) -> (WorldPoint, WorldPoint)? {
        var t0 = 0.0, t1 = 1.0
        let dx = q.x - p.x, dy = q.y - p.y
        for (pk, qk) in [(-dx, p.x - r.minX), (dx, r.maxX - p.x), (-dy, p.y - r.minY), (dy, r.maxY - p.y)] {
            if pk == 0 {
                if qk < 0 { return nil }
            } else {
                let t = qk / pk
                if pk < 0 {
                    if t > t1 { return nil }
                    if t > t0 { t0 = t }
                } else {
                    if t < t0 { return nil }
                    if t < t1 { t1 = t }
                }
            }
        }
        let a = t0 == 0 ? p : WorldPoint(x: p.x + t0 * dx, y: p.y + t0 * dy)
        let b = t1 == 1 ? q : WorldPoint(x: p.x + t1 * dx, y: p.y + t1 * dy)
        return (a, b)
    }

    /// Sutherland–Hodgman ring clipping against the four edges; returns an open ring.
    static func clipRing(_ ring: [WorldPoint], to r: ClipRect) -> [WorldPoint] {
        var pts = ring
        if pts.count > 1 && pts.first == pts.last { pts.removeLast() }
        for edge in 0..<4 {
            guard !pts.isEmpty else { return [] }
            var out: [WorldPoint] = []
            out.reserveCapacity(pts.count + 4)
            var prev = pts[pts.count - 1]
            var prevIn = inside(prev, edge, r)
            for p in pts {
                let pIn = inside(p, edge, r)
                if pIn != prevIn { out.append(intersect(prev, p, edge, r)) }
                if pIn { out.append(p) }
                prev = p
                prevIn = pIn
            }
            pts = out
        }
        return pts
    }

    @inline(__always) private static func inside(_ p: WorldPoint, _ edge: Int, _ r: ClipRect) -> Bool {
        switch edge {
        case 0: p.x >= r.minX
        case 1: p.x <= r.maxX
        case 2: p.y >= r.minY
        default: p.y <= r.maxY
        }
    }

    @inline(__always) private static func intersect(_ a: WorldPoint, _ b: WorldPoint, _ edge: Int, _ r: ClipRect) -> WorldPoint {
        switch edge {
        case 0, 1:
            let x = edge == 0 ? r.minX : r.maxX
            return WorldPoint(x: x, y: a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x))
        default:
            let y = edge == 2 ? r.minY : r.maxY
            return WorldPoint(x: a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y), y: y)
        }
    }
}
