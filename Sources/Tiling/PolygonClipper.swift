/// Clips a polygon (exterior plus holes) to a rectangle so that valid input stays valid.
///
/// Sutherland–Hodgman, the textbook clipper, turns a concave polygon that leaves and
/// re-enters the box into one ring with zero-width bridges along the box edge, which GEOS
/// and QGIS report as self-intersections. This is the Weiler–Atherton construction for a
/// convex clip window instead: each ring is cut into the chains that lie inside the box, and
/// chains are joined by walking the box boundary clockwise from each exit to the next entry
/// (interior stays on the right: exteriors are clockwise in y-down space, holes counter-
/// clockwise). Rings that never cross the box are kept or dropped whole, and a box lying
/// entirely inside the polygon becomes a box-shaped ring.
enum PolygonClipper {
    /// Twice the signed area in y-down coordinates (positive = clockwise on screen).
    static func area2(_ ring: [WorldPoint]) -> Double {
        guard ring.count >= 3 else { return 0 }
        var s = 0.0
        var prev = ring[ring.count - 1]
        for p in ring {
            s += prev.x * p.y - p.x * prev.y
            prev = p
        }
        return s
    }

    /// Even-odd point in ring test.
    static func contains(_ ring: [WorldPoint], _ p: WorldPoint) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let a = ring[i], b = ring[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }

    /// Open ring (no repeated closing point), oriented positive (`exterior`) or negative.
    static func oriented(_ ring: [WorldPoint], exterior: Bool) -> [WorldPoint] {
        var r = ring
        while r.count > 1 && r.first == r.last { r.removeLast() }
        if (area2(r) > 0) != exterior { r.reverse() }
        return r
    }

    private struct Chain {
        var points: [WorldPoint]
        var entry: Double
        var exit: Double
    }

    /// Clips `polygon` (rings: exterior first, then holes) to `rect`; returns zero or more polygons.
    static func clip(_ polygon: [[WorldPoint]], to rect: ClipRect) -> [[[WorldPoint]]] {
        guard let first = polygon.first, first.count >= 3 else { return [] }
        let rings = polygon.enumerated().map { oriented($0.element, exterior: $0.offset == 0) }.filter { $0.count >= 3 }
        guard !rings.isEmpty, area2(rings[0]) > 0 else { return [] }
        // Nudge the box by a tiny irregular amount so no vertex lies exactly on its edge.
        let e = 1.0000137e-6
        let r = ClipRect(minX: rect.minX - e, minY: rect.minY - e, maxX: rect.maxX + e, maxY: rect.maxY + e)
        var closed: [[WorldPoint]] = []
        var chains: [Chain] = []
        var enclosing = 0
        for (ri, ring) in rings.enumerated() {
            guard let start = ring.firstIndex(where: { !r.contains($0) }) else {
                closed.append(ring)
                continue
            }
            var current: [WorldPoint] = []
            var entry = 0.0
            var crossed = false
            let n = ring.count
            for k in 0..<n {
                let p = ring[(start + k) % n], q = ring[(start + k + 1) % n]
                guard let (a, b, enters, exits) = segment(p, q, r) else { continue }
                crossed = true
                if enters {
                    let (snapped, t) = perimeter(a, r)
                    current = [snapped]
                    entry = t
                }
                if exits {
                    let (snapped, t) = perimeter(b, r)
                    current.append(snapped)
                    if current.count >= 2 { chains.append(Chain(points: current, entry: entry, exit: t)) }
                    current = []
                } else {
                    current.append(b)
                }
            }
            if !crossed, contains(ring, WorldPoint(x: (r.minX + r.maxX) / 2, y: (r.minY + r.maxY) / 2)) {
                enclosing += ri == 0 ? 1 : -1
            }
        }
        var output = closed
        if chains.isEmpty {
            if enclosing > 0 { output.append(box(r)) }
        } else {
            output += link(chains, r)
        }
        return assemble(output)
    }

    /// Liang–Barsky on one edge: the inside part, and whether it enters/exits the box.
    private static func segment(_ p: WorldPoint, _ q: WorldPoint, _ r: ClipRect) -> (WorldPoint, WorldPoint, Bool, Bool)? {
        guard let (a, b) = Clipper.clipSegment(p, q, r) else { return nil }
        return (a, b, a != p || !r.contains(p), b != q || !r.contains(q))
    }

    /// Position of a boundary point along the box perimeter, clockwise from the top-left
    /// corner (0…4), and the point snapped exactly onto that edge.
    private static func perimeter(_ p: WorldPoint, _ r: ClipRect) -> (WorldPoint, Double) {
        let w = r.maxX - r.minX, h = r.maxY - r.minY
        let dTop = abs(p.y - r.minY), dRight = abs(p.x - r.maxX), dBottom = abs(p.y - r.maxY), dLeft = abs(p.x - r.minX)
        let m = min(dTop, dRight, dBottom, dLeft)
        if m == dTop { return (WorldPoint(x: p.x, y: r.minY), max(0, min(1, (p.x - r.minX) / w))) }
        if m == dRight { return (WorldPoint(x: r.maxX, y: p.y), 1 + max(0, min(1, (p.y - r.minY) / h))) }
        if m == dBottom { return (WorldPoint(x: p.x, y: r.maxY), 2 + max(0, min(1, (r.maxX - p.x) / w))) }
        return (WorldPoint(x: r.minX, y: p.y), (3 + max(0, min(1, (r.maxY - p.y) / h))).truncatingRemainder(dividingBy: 4))
    }

    private static func corner(_ i: Int, _ r: ClipRect) -> WorldPoint {
        switch i & 3 {
        case 0: WorldPoint(x: r.minX, y: r.minY)
        case 1: WorldPoint(x: r.maxX, y: r.minY)
        case 2: WorldPoint(x: r.maxX, y: r.maxY)
        default: WorldPoint(x: r.minX, y: r.maxY)
        }
    }

    private static func box(_ r: ClipRect) -> [WorldPoint] { (0..<4).map { corner($0, r) } }

    /// Joins chains into rings along the box boundary (clockwise, increasing perimeter position).
    private static func link(_ chains: [Chain], _ r: ClipRect) -> [[WorldPoint]] {
        var used = [Bool](repeating: false, count: chains.count)
        var rings: [[WorldPoint]] = []
        for s in chains.indices where !used[s] {
            var ring: [WorldPoint] = []
            var c = s
            var guardCount = 0
            while !used[c] && guardCount <= chains.count {
                used[c] = true
                guardCount += 1
                ring += chains[c].points
                let exit = chains[c].exit
                var best = -1, bestD = Double.infinity
                for (j, other) in chains.enumerated() where !used[j] || j == s {
                    var d = other.entry - exit
                    if d < 0 { d += 4 }
                    if d < bestD {
                        bestD = d
                        best = j
                    }
                }
                guard best >= 0 else { break }
                // Corners passed between exit and the next entry, in clockwise order.
                var k = Int(exit.rounded(.down)) + 1
                while Double(k) < exit + bestD {
                    ring.append(corner(k, r))
                    k += 1
                }
                c = best
            }
            if ring.count >= 3 { rings.append(ring) }
        }
        return rings
    }

    /// Groups rings into polygons: positive rings are exteriors, each negative ring becomes a
    /// hole of the smallest exterior containing it.
    private static func assemble(_ rings: [[WorldPoint]]) -> [[[WorldPoint]]] {
        var exteriors: [(ring: [WorldPoint], area: Double)] = []
        var holes: [[WorldPoint]] = []
        for ring in rings {
            let a = area2(ring)
            if a > 0 { exteriors.append((ring, a)) } else if a < 0 { holes.append(ring) }
        }
        var polys = exteriors.map { [$0.ring] }
        for h in holes {
            let probe = WorldPoint(x: (h[0].x + h[1].x) / 2, y: (h[0].y + h[1].y) / 2)
            var best = -1
            for (i, e) in exteriors.enumerated() where contains(e.ring, probe) {
                if best < 0 || e.area < exteriors[best].area { best = i }
            }
            if best >= 0 { polys[best].append(h) }
        }
        return polys
    }
}
