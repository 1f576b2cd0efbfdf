#if canImport(Glibc)
import Glibc
#endif

/// Draws filled polygons, stroked lines and circle markers onto a canvas.
///
/// Every shape becomes polygons in pixel space before it is filled by the one rasteriser:
/// a stroke is the union of a quad per segment and a disc per vertex (round joins and caps),
/// a marker a disc and a ring. Coordinates are pixels with y growing downwards.
public final class Painter {
    public private(set) var canvas: Canvas
    private let raster: Rasterizer
    private var mask: CoverageMask
    private var scratch: [Double] = []

    public init(canvas: Canvas) {
        self.canvas = canvas
        raster = Rasterizer(width: canvas.width, height: canvas.height)
        mask = CoverageMask(width: canvas.width, height: canvas.height)
    }

    /// Limits drawing to a rectangle of the canvas (nil: the whole canvas).
    public func setClip(x0: Double, y0: Double, x1: Double, y1: Double) { raster.setClip((x0, y0, x1, y1)) }
    public func resetClip() { raster.setClip(nil) }

    /// Fills polygon rings (flat x, y arrays in pixels) with the non-zero rule; rings of
    /// opposite orientation are holes.
    public func fill(rings: [[Double]], color: RenderColor) {
        guard color.a > 0, let box = Painter.bounds(rings), !raster.isOutside(minX: box.0, minY: box.1, maxX: box.2, maxY: box.3) else { return }
        for ring in rings { ring.withUnsafeBufferPointer { raster.addRing($0) } }
        raster.sweep { row, x0, cov in canvas.blendSpan(y: row, x0: x0, coverage: cov, color: color) }
    }

    /// Strokes open polylines (or closed rings, with `closed`) with round joins and caps.
    public func stroke(lines: [[Double]], width: Double, color: RenderColor, closed: Bool = false) {
        guard color.a > 0, width > 0, let box = Painter.bounds(lines) else { return }
        let r = width / 2
        guard !raster.isOutside(minX: box.0 - r, minY: box.1 - r, maxX: box.2 + r, maxY: box.3 + r) else { return }
        let disc = Painter.unitCircle(radius: r)
        for line in lines {
            let n = line.count / 2
            guard n >= 1 else { continue }
            for i in 0..<n {
                let x = line[2 * i], y = line[2 * i + 1]
                addDisc(x: x, y: y, radius: r, unit: disc)
                let j = i + 1 < n ? i + 1 : (closed && n > 2 ? 0 : -1)
                guard j >= 0 else { continue }
                let qx = line[2 * j], qy = line[2 * j + 1]
                let dx = qx - x, dy = qy - y
                let len = (dx * dx + dy * dy).squareRoot()
                guard len > 1e-9 else { continue }
                let nx = -dy / len * r, ny = dx / len * r
                if raster.isOutside(minX: min(x, qx) - r, minY: min(y, qy) - r, maxX: max(x, qx) + r, maxY: max(y, qy) + r) { continue }
                scratch = [x + nx, y + ny, qx + nx, qy + ny, qx - nx, qy - ny, x - nx, y - ny]
                scratch.withUnsafeBufferPointer { raster.addRing($0) }
                raster.sweep { row, x0, cov in mask.merge(row: row, x0: x0, coverage: cov) }
            }
        }
        mask.composite(into: &canvas, color: color)
    }

    /// Draws a circle marker: a disc of `diameter` filled with `fill`, outlined by a ring of
    /// `outlineWidth` centred on its edge.
    public func marker(x: Double, y: Double, diameter: Double, fill: RenderColor, outline: RenderColor, outlineWidth: Double) {
        let r = diameter / 2
        let reach = r + outlineWidth / 2
        guard !raster.isOutside(minX: x - reach, minY: y - reach, maxX: x + reach, maxY: y + reach) else { return }
        if fill.a > 0 {
            addCircle(x: x, y: y, radius: r, reversed: false)
            raster.sweep { row, x0, cov in canvas.blendSpan(y: row, x0: x0, coverage: cov, color: fill) }
        }
        if outline.a > 0, outlineWidth > 0 {
            addCircle(x: x, y: y, radius: r + outlineWidth / 2, reversed: false)
            addCircle(x: x, y: y, radius: max(0, r - outlineWidth / 2), reversed: true)
            raster.sweep { row, x0, cov in canvas.blendSpan(y: row, x0: x0, coverage: cov, color: outline) }
        }
    }

    /// Adds one stroke disc and unites it with the mask.
    private func addDisc(x: Double, y: Double, radius r: Double, unit: [Double]) {
        if raster.isOutside(minX: x - r, minY: y - r, maxX: x + r, maxY: y + r) { return }
        scratch.removeAll(keepingCapacity: true)
        for k in stride(from: 0, to: unit.count, by: 2) {
            scratch.append(x + unit[k])
            scratch.append(y + unit[k + 1])
        }
        scratch.withUnsafeBufferPointer { raster.addRing($0) }
        raster.sweep { row, x0, cov in mask.merge(row: row, x0: x0, coverage: cov) }
    }

    private func addCircle(x: Double, y: Double, radius: Double, reversed: Bool) {
        guard radius > 0 else { return }
        var unit = Painter.unitCircle(radius: radius)
        if reversed {
            var rev: [Double] = []
            rev.reserveCapacity(unit.count)
            for k in stride(from: unit.count - 2, through: 0, by: -2) { rev.append(unit[k]); rev.append(unit[k + 1]) }
            unit = rev
        }
        scratch.removeAll(keepingCapacity: true)
        for k in stride(from: 0, to: unit.count, by: 2) {
            scratch.append(x + unit[k])
            scratch.append(y + unit[k + 1])
        }
        scratch.withUnsafeBufferPointer { raster.addRing($0) }
    }

    /// A circle of `radius` around the origin as a polygon whose chords stay within 1/16 px
    /// of the true circle, with the same orientation as the stroke quads. The vertices sit
    /// slightly outside the circle so the polygon's area equals the circle's.
    static func unitCircle(radius: Double) -> [Double] {
        let tolerance = 0.0625
        let steps = radius <= tolerance ? 4 : max(8, min(256, Int((Double.pi / acos(1 - tolerance / radius)).rounded(.up))))
        let step = 2 * Double.pi / Double(steps)
        let r = radius * (step / sin(step)).squareRoot()
        var out: [Double] = []
        out.reserveCapacity(steps * 2)
        for k in 0..<steps {
            let t = -step * Double(k)
            out.append(cos(t) * r)
            out.append(sin(t) * r)
        }
        return out
    }

    static func bounds(_ parts: [[Double]]) -> (Double, Double, Double, Double)? {
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for p in parts {
            for k in stride(from: 0, to: p.count - 1, by: 2) {
                minX = min(minX, p[k]); maxX = max(maxX, p[k])
                minY = min(minY, p[k + 1]); maxY = max(maxY, p[k + 1])
            }
        }
        return minX <= maxX ? (minX, minY, maxX, maxY) : nil
    }
}
