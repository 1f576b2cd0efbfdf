/// Cuts one projected feature into the tiles of a zoom level: clip (with buffer), quantise to
/// the extent, encode MVT commands.
///
/// Clipping is done in two passes, first into columns then each column into rows (as
/// geojson-vt does), so a feature spanning n×m tiles costs O(vertices·(n+m)) instead of
/// O(vertices·n·m). Coordinates are pixels at the zoom (`world · 2^z · extent`).
struct TileCutter {
    let z: Int
    let extent: Double
    let buffer: Double
    let scale: Double
    let maxTile: Int
    /// The tile columns this pass produces (all of them unless the zoom is cut in bands).
    let columns: ClosedRange<Int>

    init(z: Int, extent: Int, bufferPercent: Double, columns: ClosedRange<Int>? = nil) {
        self.z = z
        self.extent = Double(extent)
        buffer = Double(extent) * bufferPercent / 100
        scale = Double(1 << z) * Double(extent)
        maxTile = (1 << z) - 1
        self.columns = columns ?? 0...maxTile
    }

    /// Cheap test on the feature's box: can it reach a tile column of this pass?
    func mayTouch(_ r: RecordView) -> Bool {
        let b = r.box
        return xRange(b.minX * scale, b.maxX * scale) != nil
    }

    /// The tiles a box touches at this zoom (all columns, with the buffer): for the memory
    /// estimate of a zoom's pieces.
    func tileRanges(minX: Double, minY: Double, maxX: Double, maxY: Double) -> (columns: ClosedRange<Int>, rows: ClosedRange<Int>)? {
        guard let xs = range(minX * scale, maxX * scale), let ys = range(minY * scale, maxY * scale) else { return nil }
        return (xs, ys)
    }

    /// Cuts a stored record: a single point (most features of big inputs) straight from its
    /// bytes with the commands on the stack; anything else through `cut(_:simplification:emit:)`.
    func cut(_ r: RecordView, simplification: Double, emit: (UInt64, UnsafeBufferPointer<UInt32>) -> Void) {
        guard r.isSinglePoint else {
            cut(r.geometry(), simplification: simplification) { key, cmds in cmds.withUnsafeBufferPointer { emit(key, $0) } }
            return
        }
        let w = r.point
        let p = WorldPoint(x: w.x * scale, y: w.y * scale)
        guard let xs = xRange(p.x, p.x), let ys = range(p.y, p.y) else { return }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3) { cmds in
            for tx in xs {
                for ty in ys {
                    let q = quantize(p, tx, ty)
                    cmds[0] = MVTGeometry.command(MVTGeometry.moveTo, 1)
                    cmds[1] = MVTGeometry.zigzag(q.x)
                    cmds[2] = MVTGeometry.zigzag(q.y)
                    emit(tileKey(tx, ty), UnsafeBufferPointer(cmds))
                }
            }
        }
    }

    private func xRange(_ lo: Double, _ hi: Double) -> ClosedRange<Int>? {
        let a = max(columns.lowerBound, Int(((lo - buffer) / extent).rounded(.down)))
        let b = min(columns.upperBound, Int(((hi + buffer) / extent).rounded(.down)))
        return a <= b ? a...b : nil
    }

    @inline(__always) func tileKey(_ x: Int, _ y: Int) -> UInt64 { UInt64(x) << 32 | UInt64(y) }

    private func range(_ lo: Double, _ hi: Double) -> ClosedRange<Int>? {
        let a = max(0, Int(((lo - buffer) / extent).rounded(.down)))
        let b = min(maxTile, Int(((hi + buffer) / extent).rounded(.down)))
        return a <= b ? a...b : nil
    }

    private func quantize(_ p: WorldPoint, _ tx: Int, _ ty: Int) -> TilePoint {
        TilePoint(x: Int32((p.x - Double(tx) * extent).rounded()), y: Int32((p.y - Double(ty) * extent).rounded()))
    }

    /// Calls `emit(tileKey, commands)` for every tile where the feature leaves a non-empty geometry.
    func cut(_ geometry: ProjectedGeometry, simplification: Double, emit: (UInt64, [UInt32]) -> Void) {
        switch geometry {
        case .points(let pts) where pts.count == 1:
            let p = WorldPoint(x: pts[0].x * scale, y: pts[0].y * scale)
            guard let xs = xRange(p.x, p.x), let ys = range(p.y, p.y) else { return }
            for tx in xs {
                for ty in ys { emit(tileKey(tx, ty), MVTGeometry.encodePoints([quantize(p, tx, ty)])) }
            }
        case .points(let pts):
            var byTile: [UInt64: [TilePoint]] = [:]
            var order: [UInt64] = []
            for w in pts {
                let p = WorldPoint(x: w.x * scale, y: w.y * scale)
                guard let xs = xRange(p.x, p.x), let ys = range(p.y, p.y) else { continue }
                for tx in xs {
                    for ty in ys {
                        let k = tileKey(tx, ty)
                        if byTile[k] == nil { order.append(k) }
                        byTile[k, default: []].append(quantize(p, tx, ty))
                    }
                }
            }
            for k in order { emit(k, MVTGeometry.encodePoints(byTile[k]!)) }
        case .lines(let lines):
            let tol = simplification / scale
            let px = lines.map { l in Simplifier.simplify(l, tolerance: tol).map { WorldPoint(x: $0.x * scale, y: $0.y * scale) } }
            slice(px, bounds: { parts, body in for l in parts { l.forEach(body) } }, emit: emit, clip: { parts, r in parts.flatMap { Clipper.clipLine($0, to: r) } }) { parts, tx, ty in
                MVTGeometry.encodeLines(parts.map { $0.map { quantize($0, tx, ty) } })
            }
        case .polygons(let polys):
            let tol = simplification / scale
            var px: [[[WorldPoint]]] = []
            for poly in polys {
                var rings: [[WorldPoint]] = []
                for (i, r) in poly.enumerated() {
                    let s = Simplifier.simplifyRing(r, tolerance: tol)
                    if s.isEmpty {
                        if i == 0 { break } else { continue }
                    }
                    rings.append(s.map { WorldPoint(x: $0.x * scale, y: $0.y * scale) })
                }
                if !rings.isEmpty { px.append(rings) }
            }
            slice(px, bounds: { polys, body in for p in polys { p.first?.forEach(body) } }, emit: emit, clip: { polys, r in
                polys.flatMap { PolygonClipper.clip($0, to: r) }
            }) { polys, tx, ty in
                MVTGeometry.encodePolygons(PolygonRepair.repair(polys.map { $0.map { $0.map { quantize($0, tx, ty) } } }))
            }
        }
    }

    /// Column-then-row slicing shared by lines and polygons.
    private func slice<Part>(_ parts: [Part], bounds forEachPoint: ([Part], (WorldPoint) -> Void) -> Void, emit: (UInt64, [UInt32]) -> Void,
                             clip: ([Part], ClipRect) -> [Part],
                             encode: ([Part], Int, Int) -> [UInt32]) {
        guard !parts.isEmpty else { return }
        var (minX, minY, maxX, maxY) = (Double.infinity, Double.infinity, -Double.infinity, -Double.infinity)
        forEachPoint(parts) { p in
            minX = min(minX, p.x); maxX = max(maxX, p.x)
            minY = min(minY, p.y); maxY = max(maxY, p.y)
        }
        guard let xs = xRange(minX, maxX), let ys = range(minY, maxY) else { return }
        for tx in xs {
            let x0 = Double(tx) * extent - buffer, x1 = Double(tx + 1) * extent + buffer
            let column = (minX >= x0 && maxX <= x1) ? parts : clip(parts, ClipRect(minX: x0, minY: minY - 1, maxX: x1, maxY: maxY + 1))
            guard !column.isEmpty else { continue }
            var (cMinY, cMaxY) = (Double.infinity, -Double.infinity)
            forEachPoint(column) { p in cMinY = min(cMinY, p.y); cMaxY = max(cMaxY, p.y) }
            guard let rows = range(cMinY, cMaxY) else { continue }
            for ty in rows where ys.contains(ty) {
                let y0 = Double(ty) * extent - buffer, y1 = Double(ty + 1) * extent + buffer
                let cell = (cMinY >= y0 && cMaxY <= y1) ? column : clip(column, ClipRect(minX: x0 - 1, minY: y0, maxX: x1 + 1, maxY: y1))
                guard !cell.isEmpty else { continue }
                let cmds = encode(cell, tx, ty)
                if !cmds.isEmpty { emit(tileKey(tx, ty), cmds) }
            }
        }
    }

}
