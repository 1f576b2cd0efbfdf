import GeoModel
import Tiling

/// Draws features into a UTFGrid (the MapBox UTFGrid 1.3 spec): which feature is on top in
/// each cell of a coarse grid, with `keys` and `data` for the features that show.
///
/// `TileRenderer` draws with it exactly as with a `Painter` (same geometry, order, clipping),
/// at the grid's resolution; a cell belongs to the last feature covering at least half of
/// it. Lines and markers are kept at least one cell wide so they stay hoverable.
public final class UTFGridPainter: ShapePainter {
    public let width: Int
    public let height: Int
    private let raster: Rasterizer
    /// Key index per cell (0: no feature).
    private var cells: [Int]
    private var keys: [String] = [""]
    private var data: [(String, JSONValue)] = []
    private var current = 0
    private let fields: Set<String>?
    private var scratch: [Double] = []

    /// A grid of `size`×`size` cells; `fields` limits the properties in `data` (nil: all).
    public init(size: Int = 64, fields: Set<String>? = nil) {
        width = size
        height = size
        raster = Rasterizer(width: size, height: size)
        cells = [Int](repeating: 0, count: size * size)
        self.fields = fields
    }

    public func begin(feature: MVTTile.Feature, of layer: MVTTile.Layer) {
        let key = feature.id.map { String($0) } ?? "\(layer.name):\(keys.count)"
        if let i = keys.firstIndex(of: key) {
            current = i
            return
        }
        var props = JSONObject()
        for (k, v) in layer.properties(of: feature) where fields?.contains(k) ?? true { props[k] = v.json }
        keys.append(key)
        data.append((key, .object(props)))
        current = keys.count - 1
    }

    public func setClip(x0: Double, y0: Double, x1: Double, y1: Double) { raster.setClip((x0, y0, x1, y1)) }
    public func resetClip() { raster.setClip(nil) }

    public func fill(rings: [[Double]], color: RenderColor) {
        for ring in rings { ring.withUnsafeBufferPointer { raster.addRing($0) } }
        claim()
    }

    public func stroke(lines: [[Double]], width: Double, color: RenderColor, closed: Bool) {
        let stroker = Stroker(width: max(1, width))
        for line in lines where line.count >= 2 {
            scratch.removeAll(keepingCapacity: true)
            stroker.outline(closed && line.count >= 6 ? line + line[0..<2] : line, into: &scratch)
            scratch.withUnsafeBufferPointer { raster.addRing($0) }
        }
        claim()
    }

    public func marker(x: Double, y: Double, diameter: Double, fill: RenderColor, outline: RenderColor, outlineWidth: Double) {
        let r = max(0.75, diameter / 2 + outlineWidth / 2)
        scratch = Painter.unitCircle(radius: r)
        for k in stride(from: 0, to: scratch.count, by: 2) {
            scratch[k] += x
            scratch[k + 1] += y
        }
        scratch.withUnsafeBufferPointer { raster.addRing($0) }
        claim()
    }

    /// Cells covered at least half by the shape just added now belong to the current feature.
    private func claim() {
        let w = width, key = current
        raster.sweep { row, x0, cov in
            for (i, c) in cov.enumerated() where c >= 0.5 { cells[row * w + x0 + i] = key }
        }
    }

    /// The UTFGrid JSON: `grid` rows of characters, `keys`, and `data` for the keys in the grid.
    public var json: JSONValue {
        var used = Set<Int>(cells)
        used.remove(0)
        // Renumber the keys that show, in first-seen order, so the grid uses few code points.
        let order = used.sorted()
        var index = [Int](repeating: 0, count: keys.count)
        for (n, k) in order.enumerated() { index[k] = n + 1 }
        var rows: [JSONValue] = []
        for y in 0..<height {
            var s = String.UnicodeScalarView()
            for x in 0..<width { s.append(UTFGridPainter.encode(index[cells[y * width + x]])) }
            rows.append(.string(String(s)))
        }
        var dataObject = JSONObject()
        for k in order { dataObject[data[k - 1].0] = data[k - 1].1 }
        return ["grid": .array(rows), "keys": .array([.string("")] + order.map { .string(keys[$0]) }), "data": .object(dataObject)]
    }

    /// UTFGrid 1.3 encoding of a key index: + 32, skipping `"` (34) and `\` (92).
    static func encode(_ id: Int) -> Unicode.Scalar {
        var c = id + 32
        if c >= 34 { c += 1 }
        if c >= 92 { c += 1 }
        return Unicode.Scalar(UInt32(c)) ?? " "
    }
}
