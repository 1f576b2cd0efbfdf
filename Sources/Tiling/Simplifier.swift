/// Douglas–Peucker simplification (the algorithm MTS's `simplification` distance drives).
///
/// Runs on projected points with the tolerance in the same units, iteratively (no recursion,
/// so long GPS tracks cannot overflow the stack). Endpoints are always kept; for rings the
/// first point is the anchor and at least four points (a triangle, closed) must survive.
enum Simplifier {
    static func simplify(_ pts: [WorldPoint], tolerance: Double) -> [WorldPoint] {
        guard tolerance > 0, pts.count > 2 else { return pts }
        let tol2 = tolerance * tolerance
        var keep = [Bool](repeating: false, count: pts.count)
        keep[0] = true
        keep[pts.count - 1] = true
        var stack: [(Int, Int)] = [(0, pts.count - 1)]
        while let (first, last) = stack.popLast() {
            guard last > first + 1 else { continue }
            var maxD = -1.0, index = first
            let a = pts[first], b = pts[last]
            for i in (first + 1)..<last {
                let d = segmentDistance2(pts[i], a, b)
                if d > maxD {
                    maxD = d
                    index = i
                }
            }
            if maxD > tol2 {
                keep[index] = true
                stack.append((first, index))
                stack.append((index, last))
            }
        }
        var out: [WorldPoint] = []
        out.reserveCapacity(pts.count / 2)
        for i in 0..<pts.count where keep[i] { out.append(pts[i]) }
        return out
    }

    /// Simplifies a closed ring; returns an empty array when it collapses below a triangle.
    static func simplifyRing(_ ring: [WorldPoint], tolerance: Double) -> [WorldPoint] {
        guard tolerance > 0, ring.count > 4 else { return ring }
        var closed = ring
        if closed.first != closed.last { closed.append(closed[0]) }
        // Split at the point farthest from the anchor so a ring never collapses to a line
        // only because its first and last points coincide.
        var far = 0, maxD = -1.0
        for (i, p) in closed.enumerated() {
            let dx = p.x - closed[0].x, dy = p.y - closed[0].y
            if dx * dx + dy * dy > maxD {
                maxD = dx * dx + dy * dy
                far = i
            }
        }
        let a = simplify(Array(closed[0...far]), tolerance: tolerance)
        let b = simplify(Array(closed[far...]), tolerance: tolerance)
        let out = a + b.dropFirst()
        return out.count >= 4 ? out : []
    }

    @inline(__always)
    static func segmentDistance2(_ p: WorldPoint, _ a: WorldPoint, _ b: WorldPoint) -> Double {
        var x = a.x, y = a.y
        var dx = b.x - x, dy = b.y - y
        if dx != 0 || dy != 0 {
            let t = ((p.x - x) * dx + (p.y - y) * dy) / (dx * dx + dy * dy)
            if t > 1 {
                x = b.x
                y = b.y
            } else if t > 0 {
                x += dx * t
                y += dy * t
            }
        }
        dx = p.x - x
        dy = p.y - y
        return dx * dx + dy * dy
    }
}
