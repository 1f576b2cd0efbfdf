/// A per-pixel coverage buffer that unites overlapping shapes by taking the maximum.
///
/// A stroke is drawn as many small convex pieces (one quad per segment, one disc per joint
/// and cap). Summing their coverage would double the anti-aliased edge where pieces overlap;
/// the maximum keeps each edge pixel at its true coverage, and the united shape is then
/// composited once, so a translucent line does not darken where its pieces overlap.
struct CoverageMask {
    let width: Int
    let height: Int
    private var values: [Float]
    private var rowMin: [Int32]
    private var rowMax: [Int32]
    private var yMin = Int.max
    private var yMax = -1

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        values = [Float](repeating: 0, count: width * height)
        rowMin = [Int32](repeating: Int32.max, count: height)
        rowMax = [Int32](repeating: -1, count: height)
    }

    /// Unites one span of coverage (from the rasteriser) with the mask.
    @inline(__always)
    mutating func merge(row: Int, x0: Int, coverage: UnsafeBufferPointer<Float>) {
        let base = row * width + x0
        values.withUnsafeMutableBufferPointer { v in
            for (i, c) in coverage.enumerated() where c > v[base + i] { v[base + i] = c }
        }
        rowMin[row] = min(rowMin[row], Int32(x0))
        rowMax[row] = max(rowMax[row], Int32(x0 + coverage.count - 1))
        yMin = min(yMin, row)
        yMax = max(yMax, row)
    }

    /// Composites `color` through the mask into `canvas`, then clears the mask.
    mutating func composite(into canvas: inout Canvas, color: RenderColor) {
        guard yMin <= yMax else { return }
        let w = width
        values.withUnsafeMutableBufferPointer { v in
            for row in yMin...yMax {
                let lo = Int(rowMin[row]), hi = Int(rowMax[row])
                guard lo <= hi else { continue }
                canvas.blendSpan(y: row, x0: lo, coverage: UnsafeBufferPointer(rebasing: v[(row * w + lo)...(row * w + hi)]), color: color)
                for i in (row * w + lo)...(row * w + hi) { v[i] = 0 }
                rowMin[row] = Int32.max
                rowMax[row] = -1
            }
        }
        yMin = Int.max
        yMax = -1
    }
}
