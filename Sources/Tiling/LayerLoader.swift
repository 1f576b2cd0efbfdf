import GeoModel

/// Turns one layer's source features into stored records (`RecordStore`), on its own
/// thread while the source is still being read (`Parallel.pipeline`).
///
/// For each feature: project and split by MVT type, evaluate the recipe (at the layer's
/// maxzoom: outputs that do not depend on the zoom are computed once), collect the schema,
/// intern the attributes, write the record, and add the feature's estimated tile pieces per
/// zoom to `PieceEstimate`, from which the tiler plans its column bands.
final class LayerLoader: @unchecked Sendable {
    /// Features handed over per batch between the reader and the loader.
    static let batchSize = 1024

    let layer: Recipe.Layer
    let records: RecordStore
    let dynamic: Bool
    private let keepsProperties: Bool
    var schema: LayerSchema
    var bounds = BoundingBox.empty
    var skipped = 0
    /// Features left out because they have more attributes than a record can count (`FeatureRecord.maxAttributes`).
    var tooWide = 0
    var estimate: PieceEstimate
    /// The automatic maxzoom's evidence (`default_maxzoom = auto` layers only).
    var guess: ZoomGuess?
    /// Shared by every layer of the run; only one loader runs at a time.
    var table: AttributeTable
    private var refs: [AttributeRef] = []

    init(layer: Recipe.Layer, memory: TilingMemory, table: AttributeTable) {
        self.layer = layer
        records = RecordStore(memory: memory)
        dynamic = FeatureEvaluator.isDynamic(layer)
        keepsProperties = dynamic || layer.simplification.usesFeature
        schema = LayerSchema(layer: layer)
        // An automatic maxzoom is chosen after loading, up to `ZoomGuess.cap`: estimate that far.
        estimate = PieceEstimate(layer: layer, maxzoom: layer.autoMaxzoom ? max(layer.maxzoom, ZoomGuess.cap) : layer.maxzoom)
        guess = layer.autoMaxzoom ? ZoomGuess() : nil
        self.table = table
    }

    func load(_ batch: [Feature]) throws {
        for f in batch { try load(f) }
    }

    private func load(_ f: Feature) throws {
        guard let g = f.geometry else { return }
        let projected = FeatureRecord.project(g)
        guard projected.valid else {
            skipped += 1
            return
        }
        guess?.add(points: projected.points, lines: projected.lines, polygons: projected.polygons)
        for c in [ProjectedGeometry.points(projected.points), .lines(projected.lines), .polygons(projected.polygons)] {
            switch c {
            case .points(let p) where p.isEmpty: continue
            case .lines(let l) where l.isEmpty: continue
            case .polygons(let p) where p.isEmpty: continue
            default: break
            }
            let out = FeatureEvaluator.evaluate(layer, properties: f.properties, id: f.id, geometryType: c.typeName, zoom: Double(layer.maxzoom))
            if !dynamic && out.properties.count > FeatureRecord.maxAttributes {
                tooWide += 1
                continue
            }
            if out.kept { schema.add(out.properties, type: c.type) }
            guard out.kept || dynamic else { continue }
            refs.removeAll(keepingCapacity: true)
            if !dynamic {
                for p in out.properties { refs.append(AttributeRef(key: table.intern(key: p.key), value: table.intern(value: p.value))) }
            }
            let arena = records.arena
            let start = arena.count
            guard FeatureRecord.append(to: arena, geometry: c, output: dynamic ? nil : out, attributes: refs,
                                       sourceID: dynamic ? f.id : nil, properties: keepsProperties ? f.properties : nil) else { continue }
            estimate.add(RecordView(arena.base + start))
            try records.commit()
            if let b = g.boundingBox { bounds.extend(b) }
        }
    }
}

/// Estimated bytes of tile pieces per zoom and tile column, from each record's box: what
/// the tiler needs to cut a zoom level in bands that fit the memory budget.
///
/// A record whose box spans columns a…b and rows c…d adds (d−c+1) pieces of its estimated
/// size to every column a…b (a difference array, so a record costs O(1) per zoom). The box
/// over-counts pieces of diagonal lines, which only makes bands smaller.
struct PieceEstimate: Sendable {
    let minzoom: Int
    private let cutters: [TileCutter]
    /// Per zoom from `minzoom`: difference array over columns (2^z + 1 entries).
    private var columns: [[Int]]

    init(layer: Recipe.Layer, maxzoom: Int) {
        minzoom = layer.minzoom
        let zooms = layer.minzoom...max(layer.minzoom, maxzoom)
        cutters = zooms.map { TileCutter(z: $0, extent: layer.extent, bufferPercent: layer.bufferSize) }
        columns = zooms.map { [Int](repeating: 0, count: (1 << $0) + 1) }
    }

    /// Bytes a piece of `r` takes: its reference, header, output and geometry.
    static func pieceBytes(_ r: RecordView, tiles: Int) -> Int {
        let geometry = r.isSinglePoint ? 5 : 8 + 3 * r.vertexCount / max(1, tiles)
        return MemoryLayout<PieceRef>.stride + 12 + TilePiece.headerSize + r.outputBytes.count + geometry
    }

    mutating func add(_ r: RecordView) {
        let b = r.box
        for (i, c) in cutters.enumerated() {
            guard let t = c.tileRanges(minX: b.minX, minY: b.minY, maxX: b.maxX, maxY: b.maxY) else { continue }
            let w = t.rows.count * PieceEstimate.pieceBytes(r, tiles: t.rows.count * t.columns.count)
            columns[i][t.columns.lowerBound] += w
            columns[i][t.columns.upperBound + 1] -= w
        }
    }

    /// Estimated piece bytes per column at `z` (empty when the layer is not active there).
    func bytesPerColumn(_ z: Int) -> [Int] {
        let i = z - minzoom
        guard i >= 0 && i < columns.count else { return [] }
        var out = [Int](repeating: 0, count: 1 << z)
        var running = 0
        for x in 0..<(1 << z) {
            running += columns[i][x]
            out[x] = running
        }
        return out
    }

    /// Column bands whose estimated pieces each fit `budget` (a single column may not).
    static func bands(_ perColumn: [Int], budget: Int) -> [ClosedRange<Int>] {
        guard !perColumn.isEmpty else { return [] }
        var bands: [ClosedRange<Int>] = []
        var start = 0, sum = 0
        for x in perColumn.indices {
            if x > start && sum + perColumn[x] > budget {
                bands.append(start...(x - 1))
                start = x
                sum = 0
            }
            sum += perColumn[x]
        }
        bands.append(start...(perColumn.count - 1))
        return bands
    }
}
