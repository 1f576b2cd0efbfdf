/// Makes quantised polygons valid in the OGC sense before they are encoded.
///
/// Simplification and rounding to integer tile coordinates can make a valid source polygon
/// invalid: rings touching themselves, spikes, crossings, islands merging into a coast.
/// MVT 2.1 §4.3.4.4 asks for OGC-valid polygons, and GEOS-based readers (QGIS, GDAL,
/// shapely) reject the rest. All tests here use exact 64-bit integer arithmetic.
///
/// Repairs, in order: drop repeated points, spikes and collinear back-tracks; split a ring at
/// a vertex it touches twice (the loop of opposite orientation becomes a hole or an
/// exterior accordingly); at a crossing, insert the (rounded) crossing point in both edges
/// and split there; a hole crossing or overlapping another ring is dropped; of two polygons
/// that overlap, the smaller is dropped. Whatever cannot be repaired within the work budget is
/// reduced to its valid exteriors that do not conflict, largest first.
enum PolygonRepair {
    typealias Ring = [TilePoint]
    typealias Polygon = [Ring]

    /// Returns valid polygons (exteriors positive area, holes negative, in tile space).
    static func repair(_ input: [Polygon]) -> [Polygon] {
        var polys = normalize(input)
        // Each round fixes one problem, and a coarse zoom of a country with many islands has
        // dozens (islands merging into the coast, the coast touching itself). Rounds are
        // bounded by work, not by count: up to `workBudget` edges examined in all, at least 6 rounds.
        var work = 0
        var rounds = 0
        while rounds < 6 || work < workBudget {
            guard let problem = findProblem(polys) else { return polys }
            work += polys.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
            rounds += 1
            polys = normalize(fix(polys, problem))
        }
        guard findProblem(polys) != nil else { return polys }
        return largestValidSubset(polys)
    }

    /// Edges `repair` may examine (summed over its rounds) before it falls back to
    /// `largestValidSubset`: about 0.1 s on one core, so hostile input stays bounded.
    static let workBudget = 4_000_000

    /// Last resort: the exteriors that are valid on their own, largest first, each kept only
    /// when it neither crosses nor contains nor lies in one already kept. Keeps the islands
    /// of a multipolygon when a single part cannot be repaired, instead of only its largest.
    static func largestValidSubset(_ polys: [Polygon]) -> [Polygon] {
        typealias Box = (minX: Int32, minY: Int32, maxX: Int32, maxY: Int32)
        let candidates = polys.map { [$0[0]] }.filter { findProblem([$0]) == nil }
            .sorted { MVTGeometry.signedArea2($0[0]) > MVTGeometry.signedArea2($1[0]) }
        var kept: [(poly: Polygon, box: Box)] = []
        for c in candidates {
            let box: Box = c[0].reduce((Int32.max, Int32.max, Int32.min, Int32.min)) { b, p in (min(b.0, p.x), min(b.1, p.y), max(b.2, p.x), max(b.3, p.y)) }
            let near = kept.filter { $0.box.minX <= box.maxX && box.minX <= $0.box.maxX && $0.box.minY <= box.maxY && box.minY <= $0.box.maxY }
            if findProblem(near.map { $0.poly } + [c]) == nil { kept.append((c, box)) }
        }
        return kept.map { $0.poly }
    }

    /// Cleans rings and orients them; drops degenerate rings (and polygons whose exterior is).
    static func normalize(_ polys: [Polygon]) -> [Polygon] {
        var out: [Polygon] = []
        for poly in polys {
            var rings: [Ring] = []
            for (i, ring) in poly.enumerated() {
                var r = clean(ring)
                let a = MVTGeometry.signedArea2(r)
                // Zero area with four or more points may be a bow tie: keep it for splitting.
                if r.count < 3 || (a == 0 && r.count < 4) {
                    if i == 0 { break } else { continue }
                }
                if a != 0 && (a > 0) != (i == 0) { r.reverse() }
                rings.append(r)
            }
            if !rings.isEmpty { out.append(rings) }
        }
        return out
    }

    /// Removes repeated points and spikes (a→b→a, or b on the line back through a).
    static func clean(_ ring: Ring) -> Ring {
        var r = MVTGeometry.dedupe(ring, closed: true)
        var changed = true
        while changed && r.count >= 3 {
            changed = false
            var out: Ring = []
            out.reserveCapacity(r.count)
            for p in r {
                out.append(p)
                while out.count >= 3 {
                    let a = out[out.count - 3], b = out[out.count - 2], c = out[out.count - 1]
                    if a == c || (cross(a, b, c) == 0 && dot(b, a, c) >= 0) {
                        // b is a spike tip or b lies on a back-tracking line: drop b (and c if equal to a).
                        out.remove(at: out.count - 2)
                        if out.count >= 2 && out[out.count - 1] == out[out.count - 2] { out.removeLast() }
                        changed = true
                    } else if cross(a, b, c) == 0 {
                        out.remove(at: out.count - 2)
                        changed = true
                    } else {
                        break
                    }
                }
            }
            // Wrap-around: check the seam between the end and the start.
            while out.count >= 3 {
                let n = out.count
                if out[n - 1] == out[0] { out.removeLast(); changed = true; continue }
                if cross(out[n - 2], out[n - 1], out[0]) == 0 { out.remove(at: n - 1); changed = true; continue }
                if cross(out[n - 1], out[0], out[1]) == 0 { out.remove(at: 0); changed = true; continue }
                break
            }
            r = out
        }
        return r.count >= 3 ? r : []
    }

    @inline(__always) static func cross(_ o: TilePoint, _ a: TilePoint, _ b: TilePoint) -> Int64 {
        (Int64(a.x) - Int64(o.x)) * (Int64(b.y) - Int64(o.y)) - (Int64(a.y) - Int64(o.y)) * (Int64(b.x) - Int64(o.x))
    }

    /// (a - b)·(c - b): positive when a and c lie on the same side of b.
    @inline(__always) static func dot(_ b: TilePoint, _ a: TilePoint, _ c: TilePoint) -> Int64 {
        (Int64(a.x) - Int64(b.x)) * (Int64(c.x) - Int64(b.x)) + (Int64(a.y) - Int64(b.y)) * (Int64(c.y) - Int64(b.y))
    }

    struct Segment {
        var poly: Int, ring: Int, index: Int
        var a: TilePoint, b: TilePoint
        var minX: Int32, maxX: Int32
    }

    enum Problem {
        /// Two edges of one ring touch or cross at `point`.
        case selfContact(poly: Int, ring: Int, i: Int, j: Int, point: TilePoint)
        /// Two different rings cross or overlap.
        case ringConflict(poly: Int, ringA: Int, polyB: Int, ringB: Int)
        /// A polygon lies inside another polygon's exterior (not in a hole).
        case nested(inner: Int, outer: Int)
        /// A hole lies outside its exterior.
        case strayHole(poly: Int, ring: Int)
    }

    static func findProblem(_ polys: [Polygon]) -> Problem? {
        var segs: [Segment] = []
        for (pi, poly) in polys.enumerated() {
            for (ri, ring) in poly.enumerated() {
                for i in 0..<ring.count {
                    let a = ring[i], b = ring[(i + 1) % ring.count]
                    segs.append(Segment(poly: pi, ring: ri, index: i, a: a, b: b, minX: min(a.x, b.x), maxX: max(a.x, b.x)))
                }
            }
        }
        segs.sort { $0.minX < $1.minX }
        var active: [Int] = []
        for (si, s) in segs.enumerated() {
            active.removeAll { segs[$0].maxX < s.minX }
            for oi in active {
                let o = segs[oi]
                guard max(min(s.a.y, s.b.y), min(o.a.y, o.b.y)) <= min(max(s.a.y, s.b.y), max(o.a.y, o.b.y)) else { continue }
                if let p = conflict(s, o, polys) { return p }
            }
            active.append(si)
        }
        // Containment: holes inside their exterior, exteriors not inside each other.
        for (pi, poly) in polys.enumerated() {
            for ri in 1..<max(1, poly.count) where !inside(probe(poly[ri]), poly[0]) {
                return .strayHole(poly: pi, ring: ri)
            }
        }
        if polys.count > 1 {
            // Boxes first: only a polygon whose box lies in another's box can be inside it.
            let boxes = polys.map { poly in
                poly[0].reduce((Int32.max, Int32.max, Int32.min, Int32.min)) { b, p in (min(b.0, p.x), min(b.1, p.y), max(b.2, p.x), max(b.3, p.y)) }
            }
            for (pi, poly) in polys.enumerated() {
                let p = probe(poly[0])
                let b = boxes[pi]
                for (qi, other) in polys.enumerated() where qi != pi {
                    let o = boxes[qi]
                    guard b.0 >= o.0, b.1 >= o.1, b.2 <= o.2, b.3 <= o.3 else { continue }
                    if inside(p, other[0]) && !other.dropFirst().contains(where: { inside(p, $0) }) { return .nested(inner: pi, outer: qi) }
                }
            }
        }
        return nil
    }

    /// A point strictly inside the ring near its first edge (midpoint nudged inwards), as doubles.
    static func probe(_ ring: Ring) -> (Double, Double) {
        let a = ring[0], b = ring[1]
        let mx = (Double(a.x) + Double(b.x)) / 2, my = (Double(a.y) + Double(b.y)) / 2
        let dx = Double(b.x - a.x), dy = Double(b.y - a.y)
        let len = max(1e-9, (dx * dx + dy * dy).squareRoot())
        // Interior is on the right of travel for positive rings in y-down space, left for holes.
        let sign: Double = MVTGeometry.signedArea2(ring) > 0 ? 1 : -1
        return (mx - sign * dy / len * 0.01, my + sign * dx / len * 0.01)
    }

    static func inside(_ p: (Double, Double), _ ring: Ring) -> Bool {
        var c = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let ax = Double(ring[i].x), ay = Double(ring[i].y), bx = Double(ring[j].x), by = Double(ring[j].y)
            if (ay > p.1) != (by > p.1), p.0 < (bx - ax) * (p.1 - ay) / (by - ay) + ax { c.toggle() }
            j = i
        }
        return c
    }

    private static func conflict(_ s: Segment, _ o: Segment, _ polys: [Polygon]) -> Problem? {
        let sameRing = s.poly == o.poly && s.ring == o.ring
        if sameRing {
            let n = polys[s.poly][s.ring].count
            let adjacent = (s.index + 1) % n == o.index || (o.index + 1) % n == s.index
            if adjacent {
                // Adjacent edges share one endpoint; they conflict only if they overlap (a spike),
                // which `clean` removes; treat any other contact as fine.
                return nil
            }
        }
        let d1 = cross(o.a, o.b, s.a), d2 = cross(o.a, o.b, s.b), d3 = cross(s.a, s.b, o.a), d4 = cross(s.a, s.b, o.b)
        let proper = ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))
        var contact: TilePoint?
        if proper {
            contact = intersection(s.a, s.b, o.a, o.b)
        } else {
            if d1 == 0 && onSegment(o.a, o.b, s.a) { contact = s.a }
            else if d2 == 0 && onSegment(o.a, o.b, s.b) { contact = s.b }
            else if d3 == 0 && onSegment(s.a, s.b, o.a) { contact = o.a }
            else if d4 == 0 && onSegment(s.a, s.b, o.b) { contact = o.b }
        }
        guard let point = contact else { return nil }
        let collinearOverlap = d1 == 0 && d2 == 0 && overlapLength(s, o) > 0
        if sameRing {
            return .selfContact(poly: s.poly, ring: s.ring, i: s.index, j: o.index, point: point)
        }
        // Different rings may touch at a single point, but not cross or share an edge.
        if proper || collinearOverlap { return .ringConflict(poly: s.poly, ringA: s.ring, polyB: o.poly, ringB: o.ring) }
        return nil
    }

    private static func onSegment(_ a: TilePoint, _ b: TilePoint, _ p: TilePoint) -> Bool {
        min(a.x, b.x) <= p.x && p.x <= max(a.x, b.x) && min(a.y, b.y) <= p.y && p.y <= max(a.y, b.y)
    }

    private static func overlapLength(_ s: Segment, _ o: Segment) -> Int64 {
        if s.a.x != s.b.x {
            return Int64(min(max(s.a.x, s.b.x), max(o.a.x, o.b.x))) - Int64(max(min(s.a.x, s.b.x), min(o.a.x, o.b.x)))
        }
        return Int64(min(max(s.a.y, s.b.y), max(o.a.y, o.b.y))) - Int64(max(min(s.a.y, s.b.y), min(o.a.y, o.b.y)))
    }

    private static func intersection(_ a: TilePoint, _ b: TilePoint, _ c: TilePoint, _ d: TilePoint) -> TilePoint {
        let x1 = Double(a.x), y1 = Double(a.y), x2 = Double(b.x), y2 = Double(b.y)
        let x3 = Double(c.x), y3 = Double(c.y), x4 = Double(d.x), y4 = Double(d.y)
        let den = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
        let t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / den
        return TilePoint(x: Int32((x1 + t * (x2 - x1)).rounded()), y: Int32((y1 + t * (y2 - y1)).rounded()))
    }

    private static func fix(_ polys: [Polygon], _ problem: Problem) -> [Polygon] {
        var polys = polys
        switch problem {
        case let .selfContact(pi, ri, i, j, point):
            var ring = polys[pi][ri]
            // Make `point` a vertex of both edges, then split the ring at its two occurrences.
            let (lo, hi) = (min(i, j), max(i, j))
            if ring[(hi + 1) % ring.count] != point && ring[hi] != point { ring.insert(point, at: hi + 1) }
            if ring[(lo + 1) % ring.count] != point && ring[lo] != point { ring.insert(point, at: lo + 1) }
            let idx = ring.indices.filter { ring[$0] == point }
            guard idx.count >= 2 else {
                polys[pi].remove(at: ri)
                return ri == 0 ? polys.enumerated().filter { $0.offset != pi }.map(\.element) : polys
            }
            let loop = Array(ring[idx[0]..<idx[1]])
            let rest = Array(ring[idx[1]...]) + Array(ring[..<idx[0]])
            let parts = [loop, rest].map { clean($0) }.filter { $0.count >= 3 && MVTGeometry.signedArea2($0) != 0 }
            // Positive loops are exteriors, negative loops holes (an inner loop of an exterior
            // is a hole touching it at one point, which is valid; a loop of a hole is an island).
            var newExteriors = parts.filter { MVTGeometry.signedArea2($0) > 0 }
            var newHoles: [Ring] = []
            for part in parts where MVTGeometry.signedArea2(part) < 0 {
                // A negative loop beside (not inside) the others is the far lobe of a bow tie.
                if ri == 0 && !newExteriors.contains(where: { inside(probe(part), $0) }) {
                    newExteriors.append(part.reversed())
                } else {
                    newHoles.append(part)
                }
            }
            polys[pi].remove(at: ri)
            if ri == 0 {
                let holes = polys[pi] + newHoles
                polys.remove(at: pi)
                let sorted = newExteriors.sorted { MVTGeometry.signedArea2($0) < MVTGeometry.signedArea2($1) }
                var assigned = [Bool](repeating: false, count: holes.count)
                for e in sorted {
                    var poly: Polygon = [e]
                    for (k, h) in holes.enumerated() where !assigned[k] && inside(probe(h), e) {
                        poly.append(h)
                        assigned[k] = true
                    }
                    polys.append(poly)
                }
            } else {
                polys[pi] += newHoles
                for e in newExteriors { polys.append([e]) }
            }
        case let .ringConflict(pa, ra, pb, rb):
            if pa == pb {
                // Drop the smaller hole (never the exterior).
                let victim = ra == 0 ? rb : rb == 0 ? ra : (abs(MVTGeometry.signedArea2(polys[pa][ra])) < abs(MVTGeometry.signedArea2(polys[pa][rb])) ? ra : rb)
                polys[pa].remove(at: victim)
            } else if ra != 0 || rb != 0 {
                if ra != 0 { polys[pa].remove(at: ra) } else { polys[pb].remove(at: rb) }
            } else {
                let victim = MVTGeometry.signedArea2(polys[pa][0]) < MVTGeometry.signedArea2(polys[pb][0]) ? pa : pb
                polys.remove(at: victim)
            }
        case let .nested(inner, _):
            polys.remove(at: inner)
        case let .strayHole(pi, ri):
            polys[pi].remove(at: ri)
        }
        return polys
    }
}
