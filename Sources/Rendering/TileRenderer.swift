import GeoModel
import Tiling

/// A decoded vector tile placed on a canvas: `column`/`row` count tiles from the canvas's
/// origin tile (0, 0 is the tile whose top-left corner is at the renderer's origin).
public struct PlacedTile: Sendable {
    public var tile: MVTTile
    public var column: Int
    public var row: Int

    public init(tile: MVTTile, column: Int = 0, row: Int = 0) {
        self.tile = tile
        self.column = column
        self.row = row
    }
}

/// Draws decoded vector tiles with a style sheet: painter's order by layer, then feature.
///
/// Each tile paints polygons and lines only inside its own square, using the geometry of
/// its buffer so strokes crossing the edge meet the neighbour's exactly. A point is drawn by
/// the one tile whose square holds it (never twice from two buffers), without clipping, so
/// a marker near an edge is whole when the neighbour tiles are passed too.
public struct TileRenderer: Sendable {
    public var style: StyleSheet
    /// Layer names in drawing order (from the tileset's `vector_layers`); other layers follow
    /// in the order first met, and take their palette colour from a hash of their name.
    public var layerOrder: [String]

    public init(style: StyleSheet = StyleSheet(), layerOrder: [String] = []) {
        self.style = style
        self.layerOrder = layerOrder
    }

    /// Renders one tile into a new `size`×`size` canvas; `neighbours` (up to the 8 around it,
    /// placed at column/row −1…1) contribute the markers that reach across the edges.
    /// `zoom` is the tile's zoom, for style rules that depend on it.
    public func render(_ tile: MVTTile, neighbours: [PlacedTile] = [], size: Int = 256, pixelRatio: Double = 1, zoom: Double = 0) -> Canvas {
        let painter = Painter(canvas: Canvas(width: size, height: size, background: style.background ?? .transparent))
        draw([PlacedTile(tile: tile)] + neighbours, with: painter, tileSize: Double(size), pixelRatio: pixelRatio, zoom: zoom)
        return painter.canvas
    }

    /// Draws placed tiles with the painter; tile (0, 0) has its top-left corner at (`originX`, `originY`) px.
    /// `zoom` (the tiles' zoom level) is what style rules with zoom filters see.
    public func draw(_ tiles: [PlacedTile], with painter: some ShapePainter, tileSize: Double, originX: Double = 0, originY: Double = 0,
                     pixelRatio: Double = 1, zoom: Double = 0) {
        var names: [String] = layerOrder
        for t in tiles { for l in t.tile.layers where !names.contains(l.name) { names.append(l.name) } }
        for name in names {
            let paletteIndex = layerOrder.firstIndex(of: name) ?? TileRenderer.stableHash(name)
            for placed in tiles {
                guard let layer = placed.tile.layers.first(where: { $0.name == name }) else { continue }
                let x0 = originX + Double(placed.column) * tileSize, y0 = originY + Double(placed.row) * tileSize
                draw(layer, paletteIndex: paletteIndex, with: painter, x0: x0, y0: y0, tileSize: tileSize, pixelRatio: pixelRatio, zoom: zoom)
            }
        }
        painter.resetClip()
    }

    private func draw(_ layer: MVTTile.Layer, paletteIndex: Int, with painter: some ShapePainter, x0: Double, y0: Double, tileSize: Double,
                      pixelRatio: Double, zoom: Double) {
        let scale = tileSize / Double(layer.extent)
        let extent = Int32(clamping: layer.extent)
        let styleKeys: Set<String> = ["stroke", "stroke-width", "stroke-opacity", "fill", "fill-opacity", "marker-color", "marker-size"]
        let keyIsStyle = layer.keys.map { styleKeys.contains($0) }
        let canvasW = Double(painter.width), canvasH = Double(painter.height)
        let visible = x0 < canvasW && y0 < canvasH && x0 + tileSize > 0 && y0 + tileSize > 0
        let layerStyle = style.layers[layer.name]
        let hasRules = !(layerStyle?.rules.isEmpty ?? true)
        let rulesReadFeatures = layerStyle?.rulesReadFeatures ?? false
        for feature in layer.features {
            let kind: StyleSheet.GeometryKind
            switch feature.type {
            case .point: kind = .point
            case .lineString: kind = .line
            case .polygon: kind = .polygon
            case .unknown: continue
            }
            if kind != .point && !visible { continue }
            var props: [(key: String, value: JSONValue)] = []
            for i in stride(from: 0, to: feature.tags.count - 1, by: 2) where keyIsStyle[Int(feature.tags[i])] {
                props.append((layer.keys[Int(feature.tags[i])], layer.values[Int(feature.tags[i + 1])].json))
            }
            var context: ExpressionContext?
            if hasRules {
                let all = rulesReadFeatures ? TileRenderer.properties(of: feature, in: layer) : JSONObject()
                context = ExpressionContext(properties: all, id: feature.id.map { .int(Int64(clamping: $0)) }, geometryType: kind.expressionName, zoom: zoom)
            }
            let s = style.style(layer: layer.name, layerIndex: paletteIndex, kind: kind, properties: props, context: context)
            painter.begin(feature: feature, of: layer)
            let parts = feature.decoded.parts
            switch kind {
            case .point:
                painter.resetClip()
                guard let color = s.markerColor else { continue }
                for part in parts {
                    guard let p = part.first, p.x >= 0, p.y >= 0, p.x < extent, p.y < extent else { continue }
                    painter.marker(x: x0 + Double(p.x) * scale, y: y0 + Double(p.y) * scale, diameter: s.markerDiameter * pixelRatio,
                                   fill: color.withOpacity(s.markerOpacity * s.markerFillOpacity),
                                   outline: (s.markerOutline ?? .transparent).withOpacity(s.markerOpacity * s.markerOutlineOpacity),
                                   outlineWidth: s.markerOutlineWidth * pixelRatio)
                }
            case .line:
                painter.setClip(x0: x0, y0: y0, x1: x0 + tileSize, y1: y0 + tileSize)
                guard let c = s.stroke, s.strokeWidth > 0 else { continue }
                let lines = parts.map { TileRenderer.pixels($0, x0: x0, y0: y0, scale: scale) }
                painter.stroke(lines: lines, width: s.strokeWidth * pixelRatio, color: c.withOpacity(s.strokeOpacity), closed: false)
            case .polygon:
                painter.setClip(x0: x0, y0: y0, x1: x0 + tileSize, y1: y0 + tileSize)
                if let f = s.fill, s.fillOpacity > 0 {
                    painter.fill(rings: parts.map { TileRenderer.pixels($0, x0: x0, y0: y0, scale: scale) }, color: f.withOpacity(s.fillOpacity))
                }
                if let c = s.stroke, s.strokeWidth > 0, s.strokeOpacity > 0 {
                    var runs: [[Double]] = []
                    for ring in parts { runs += TileRenderer.outlineRuns(ring, extent: extent, x0: x0, y0: y0, scale: scale) }
                    painter.stroke(lines: runs, width: s.strokeWidth * pixelRatio, color: c.withOpacity(s.strokeOpacity), closed: false)
                }
            }
        }
    }

    /// All of a feature's properties, for style rules that filter on them.
    static func properties(of feature: MVTTile.Feature, in layer: MVTTile.Layer) -> JSONObject {
        var out = JSONObject(capacity: feature.tags.count / 2)
        for i in stride(from: 0, to: feature.tags.count - 1, by: 2) {
            let k = Int(feature.tags[i]), v = Int(feature.tags[i + 1])
            guard k < layer.keys.count, v < layer.values.count else { continue }
            out[layer.keys[k]] = layer.values[v].json
        }
        return out
    }

    static func pixels(_ part: [TilePoint], x0: Double, y0: Double, scale: Double) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(part.count * 2)
        for p in part {
            out.append(x0 + Double(p.x) * scale)
            out.append(y0 + Double(p.y) * scale)
        }
        return out
    }

    /// A closed ring as open polylines without the segments that lie wholly beyond one side of
    /// the tile: those are where the tiler clipped the polygon in the buffer, not real borders.
    static func outlineRuns(_ ring: [TilePoint], extent: Int32, x0: Double, y0: Double, scale: Double) -> [[Double]] {
        guard ring.count >= 2 else { return [] }
        func outside(_ a: TilePoint, _ b: TilePoint) -> Bool {
            (a.x <= 0 && b.x <= 0) || (a.y <= 0 && b.y <= 0) || (a.x >= extent && b.x >= extent) || (a.y >= extent && b.y >= extent)
        }
        let closed = ring + [ring[0]]
        // Start at a dropped segment so that runs never wrap around the ring's first point.
        guard let start = (0..<(closed.count - 1)).first(where: { outside(closed[$0], closed[$0 + 1]) }) else {
            return [pixels(closed, x0: x0, y0: y0, scale: scale)]
        }
        var runs: [[Double]] = []
        var current: [TilePoint] = []
        for k in 0..<(closed.count - 1) {
            let i = (start + k) % (closed.count - 1)
            let a = closed[i], b = closed[i + 1]
            if outside(a, b) {
                if current.count >= 2 { runs.append(pixels(current, x0: x0, y0: y0, scale: scale)) }
                current = []
            } else {
                if current.isEmpty { current.append(a) }
                current.append(b)
            }
        }
        if current.count >= 2 { runs.append(pixels(current, x0: x0, y0: y0, scale: scale)) }
        return runs
    }

    /// FNV-1a of the name: a palette slot that does not depend on which layers a tile has.
    static func stableHash(_ name: String) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int(h % 1024)
    }
}
