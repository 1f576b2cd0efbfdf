#if canImport(Glibc)
import Glibc
#endif

/// Turns a polyline into the outline of its stroke: one closed ring to fill with the non-zero rule.
///
/// The ring runs along the left offset with round joins on the outer side of each turn, round
/// cap at the end, back along the right offset, round cap at the start — the construction of
/// AGG's `vcgen_stroke` (Mapnik's stroker). Inner joins simply connect the two offset points;
/// the small loops they make lie inside the stroke and have winding ±2, which non-zero fills,
/// so the whole stroke is one shape and a translucent line is composited once.
struct Stroker {
    let radius: Double
    /// Largest angle step of an arc that keeps its chords within 1/16 px of the circle.
    let arcStep: Double

    init(width: Double) {
        radius = width / 2
        arcStep = radius <= 0.0625 ? .pi / 2 : max(0.02, 2 * acos(1 - 0.0625 / radius))
    }

    /// The outline of the polyline `xy` (flat x, y pairs) appended to `out` as one ring.
    func outline(_ xy: [Double], into out: inout [Double]) {
        var px: [Double] = [], py: [Double] = []
        px.reserveCapacity(xy.count / 2)
        py.reserveCapacity(xy.count / 2)
        for k in stride(from: 0, to: xy.count - 1, by: 2) {
            if let lx = px.last, let ly = py.last, abs(lx - xy[k]) < 1e-9, abs(ly - xy[k + 1]) < 1e-9 { continue }
            px.append(xy[k])
            py.append(xy[k + 1])
        }
        guard let x0 = px.first, let y0 = py.first else { return }
        if px.count == 1 {
            // A single point: round caps make a dot.
            out.append(x0 + radius)
            out.append(y0)
            arc(cx: x0, cy: y0, from: 0, sweep: -2 * .pi, into: &out)
            return
        }
        side(px, py, into: &out)
        side(px.reversed(), py.reversed(), into: &out)
    }

    /// One offset side of the polyline plus the round cap at its end.
    private func side(_ px: [Double], _ py: [Double], into out: inout [Double]) {
        let n = px.count
        let r = radius
        var dx = px[1] - px[0], dy = py[1] - py[0]
        var len = (dx * dx + dy * dy).squareRoot()
        dx /= len
        dy /= len
        out.append(px[0] - dy * r)
        out.append(py[0] + dx * r)
        for j in 1..<(n - 1) {
            var ex = px[j + 1] - px[j], ey = py[j + 1] - py[j]
            len = (ex * ex + ey * ey).squareRoot()
            ex /= len
            ey /= len
            let cross = dx * ey - dy * ex, dot = dx * ex + dy * ey
            out.append(px[j] - dy * r)
            out.append(py[j] + dx * r)
            if cross < 0 {
                // This side is the outer side of the turn: a round join.
                arc(cx: px[j], cy: py[j], from: atan2(dx, -dy), sweep: atan2(cross, dot), into: &out)
            }
            out.append(px[j] - ey * r)
            out.append(py[j] + ex * r)
            dx = ex
            dy = ey
        }
        out.append(px[n - 1] - dy * r)
        out.append(py[n - 1] + dx * r)
        // Round cap: half a turn from the left normal through the direction to the right normal.
        arc(cx: px[n - 1], cy: py[n - 1], from: atan2(dx, -dy), sweep: -.pi, into: &out)
    }

    /// Points strictly inside an arc of `radius` around (cx, cy), from angle `from` turning by `sweep`.
    private func arc(cx: Double, cy: Double, from a0: Double, sweep: Double, into out: inout [Double]) {
        let steps = Int((abs(sweep) / arcStep).rounded(.up))
        guard steps > 1 else { return }
        for k in 1..<steps {
            let a = a0 + sweep * Double(k) / Double(steps)
            out.append(cx + cos(a) * radius)
            out.append(cy + sin(a) * radius)
        }
    }
}
