/// An anti-aliased scanline rasteriser that accumulates signed coverage per cell.
///
/// The model of AGG (Mapnik's rasteriser) and font-rs: every edge adds, to each cell it
/// crosses, the signed area it sweeps to the cell's right; a running sum along a row then
/// gives the winding-weighted coverage of every pixel, and `min(1, |sum|)` is the non-zero
/// fill rule with exact-area anti-aliasing. Holes are rings of opposite orientation, so
/// their winding cancels. Edges are clipped to a rectangle first; the part of an edge left
/// of the clip becomes a vertical edge on its left side, so the area to its right stays right.
final class Rasterizer {
    let width: Int
    let height: Int
    private let stride: Int
    private var acc: [Float]
    private var rowMin: [Int32]
    private var rowMax: [Int32]
    private var yMin = Int.max
    private var yMax = -1
    private var line: [Float]
    /// The drawing clip in pixels (x0, y0, x1, y1); edges outside it do not paint.
    private(set) var clip: (x0: Double, y0: Double, x1: Double, y1: Double)

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        stride = width + 2
        acc = [Float](repeating: 0, count: stride * height)
        rowMin = [Int32](repeating: Int32.max, count: height)
        rowMax = [Int32](repeating: -1, count: height)
        line = [Float](repeating: 0, count: width + 2)
        clip = (0, 0, Double(width), Double(height))
    }

    /// Restricts painting to a rectangle (clamped to the canvas); `nil` resets to the canvas.
    func setClip(_ rect: (x0: Double, y0: Double, x1: Double, y1: Double)?) {
        guard let r = rect else {
            clip = (0, 0, Double(width), Double(height))
            return
        }
        clip = (max(0, r.x0), max(0, r.y0), min(Double(width), r.x1), min(Double(height), r.y1))
    }

    /// True when nothing inside the clip can be touched by a shape with this bounding box.
    func isOutside(minX: Double, minY: Double, maxX: Double, maxY: Double) -> Bool {
        maxX <= clip.x0 || minX >= clip.x1 || maxY <= clip.y0 || minY >= clip.y1 || clip.x0 >= clip.x1 || clip.y0 >= clip.y1
    }

    /// Adds a closed ring of points (x0, y0, x1, y1, …) in pixels; the ring closes itself.
    func addRing(_ xy: UnsafeBufferPointer<Double>) {
        let n = xy.count / 2
        guard n >= 3 else { return }
        var px = xy[2 * (n - 1)], py = xy[2 * (n - 1) + 1]
        for i in 0..<n {
            let x = xy[2 * i], y = xy[2 * i + 1]
            addEdge(px, py, x, y)
            px = x
            py = y
        }
    }

    /// Adds one directed edge, clipped to the clip rectangle.
    func addEdge(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) {
        var x0 = ax, y0 = ay, x1 = bx, y1 = by
        let c = clip
        // Vertical clip: keep the part between y0 and y1 of the clip.
        if y0 == y1 { return }
        if (y0 < c.y0 && y1 < c.y0) || (y0 > c.y1 && y1 > c.y1) { return }
        let dxdy = (x1 - x0) / (y1 - y0)
        if y0 < c.y0 { x0 += (c.y0 - y0) * dxdy; y0 = c.y0 } else if y0 > c.y1 { x0 += (c.y1 - y0) * dxdy; y0 = c.y1 }
        if y1 < c.y0 { x1 += (c.y0 - y1) * dxdy; y1 = c.y0 } else if y1 > c.y1 { x1 += (c.y1 - y1) * dxdy; y1 = c.y1 }
        if y0 == y1 { return }
        // Horizontal clip: parts beyond a side become vertical edges on that side (split at
        // the crossings, then clamp x), so coverage to their right is kept.
        var t1 = 2.0, t2 = 2.0
        if x0 != x1 {
            let tl = (c.x0 - x0) / (x1 - x0), tr = (c.x1 - x0) / (x1 - x0)
            if tl > 0 && tl < 1 { t1 = tl }
            if tr > 0 && tr < 1 { if t1 > 1 { t1 = tr } else { t2 = tr } }
            if t2 < t1 { swap(&t1, &t2) }
        }
        var px = x0, py = y0
        for t in [t1, t2, 1.0] where t <= 1 {
            let nx = t == 1 ? x1 : x0 + (x1 - x0) * t, ny = t == 1 ? y1 : y0 + (y1 - y0) * t
            accumulate(Float(min(c.x1, max(c.x0, px))), Float(py), Float(min(c.x1, max(c.x0, nx))), Float(ny))
            px = nx
            py = ny
            if t == 1 { break }
        }
    }

    /// Adds the signed area of a segment already inside the clip to the cells it crosses.
    private func accumulate(_ ax: Float, _ ay: Float, _ bx: Float, _ by: Float) {
        if ay == by { return }
        let dir: Float = ay < by ? 1 : -1
        let (x0, y0, x1, y1) = ay < by ? (ax, ay, bx, by) : (bx, by, ax, ay)
        let dxdy = (x1 - x0) / (y1 - y0)
        let rowStart = max(0, Int(y0))
        let rowEnd = min(height, Int(y1.rounded(.up)))
        guard rowStart < rowEnd else { return }
        yMin = min(yMin, rowStart)
        yMax = max(yMax, rowEnd - 1)
        var x = x0 + (Float(rowStart) > y0 ? (Float(rowStart) - y0) * dxdy : 0)
        let limit = Float(width)
        acc.withUnsafeMutableBufferPointer { a in
            for row in rowStart..<rowEnd {
                let top = max(Float(row), y0), bottom = min(Float(row + 1), y1)
                let dy = bottom - top
                let xNext = x + dxdy * dy
                let d = dy * dir
                let lo = min(limit, max(0, min(x, xNext))), hi = min(limit, max(0, max(x, xNext)))
                let loFloor = lo.rounded(.down)
                let loCell = Int(loFloor)
                let hiCeil = hi.rounded(.up)
                let hiCell = Int(hiCeil)
                let base = row * stride
                if hiCell <= loCell + 1 {
                    // Within one cell: the part right of the mean x goes to the next cell.
                    let mid = 0.5 * (lo + hi) - loFloor
                    a[base + loCell] += d - d * mid
                    a[base + loCell + 1] += d * mid
                    rowMin[row] = min(rowMin[row], Int32(loCell))
                    rowMax[row] = max(rowMax[row], Int32(loCell + 1))
                } else {
                    // Across cells: a triangle in the first and last cell, slices in between.
                    let s = 1 / (hi - lo)
                    let f0 = lo - loFloor
                    let a0 = 0.5 * s * (1 - f0) * (1 - f0)
                    let f1 = hi - hiCeil + 1
                    let aLast = 0.5 * s * f1 * f1
                    a[base + loCell] += d * a0
                    if hiCell == loCell + 2 {
                        a[base + loCell + 1] += d * (1 - a0 - aLast)
                    } else {
                        let a1 = s * (1.5 - f0)
                        a[base + loCell + 1] += d * (a1 - a0)
                        var xi = loCell + 2
                        while xi < hiCell - 1 {
                            a[base + xi] += d * s
                            xi += 1
                        }
                        let a2 = a1 + Float(hiCell - loCell - 3) * s
                        a[base + hiCell - 1] += d * (1 - a2 - aLast)
                    }
                    a[base + hiCell] += d * aLast
                    rowMin[row] = min(rowMin[row], Int32(loCell))
                    rowMax[row] = max(rowMax[row], Int32(hiCell))
                }
                x = xNext
            }
        }
    }

    /// Turns the accumulated edges into coverage rows and hands each non-empty span to `body`
    /// (row, first column, coverage 0…1 per pixel), then clears the accumulator.
    func sweep(_ body: (Int, Int, UnsafeBufferPointer<Float>) -> Void) {
        guard yMin <= yMax else { return }
        acc.withUnsafeMutableBufferPointer { a in
            line.withUnsafeMutableBufferPointer { out in
                for row in yMin...yMax {
                    let lo = Int(rowMin[row]), hi = Int(rowMax[row])
                    guard lo <= hi else { continue }
                    rowMin[row] = Int32.max
                    rowMax[row] = -1
                    let base = row * stride
                    var sum: Float = 0
                    var last = lo
                    for x in lo...hi {
                        sum += a[base + x]
                        a[base + x] = 0
                        let cov = min(1, abs(sum))
                        out[x - lo] = cov
                        if cov > 0.0005 { last = x }
                    }
                    // A span still open at its last edge (clipped on the right) covers the rest.
                    var end = min(hi, width - 1)
                    let tail = min(1, abs(sum))
                    if tail > 0.0005 {
                        for x in (hi + 1)..<max(hi + 1, width) { out[x - lo] = tail }
                        end = width - 1
                    } else {
                        end = min(end, last)
                    }
                    if end >= lo, lo < width {
                        body(row, lo, UnsafeBufferPointer(rebasing: out[0...(end - lo)]))
                    }
                }
            }
        }
        yMin = Int.max
        yMax = -1
    }
}
