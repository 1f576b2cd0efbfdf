import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// What a tiling run produced: MTS `layer_stats` and `warnings`, and the tileset metadata.
public struct TilingReport: Sendable {
    /// MTS job `layer_stats`: layer name → statistics.
    public var layerStats: JSONValue
    /// MTS job `warnings` (features dropped for size, skipped invalid features).
    public var warnings: [String]
    public var metadata: TilesetMetadata
    public var tileCount: Int
    public var featureCount: Int
    /// The recipe as run: the given JSON with every automatically chosen `maxzoom` filled in.
    public var recipe: JSONValue
    /// One line per layer whose maxzoom was chosen from the data, saying which and why.
    public var maxzoomChoices: [String] = []
}

/// Tileset metadata for MBTiles 1.3 `metadata` rows and TileJSON.
public struct TilesetMetadata: Sendable {
    public var bounds: BoundingBox
    public var center: Position
    public var centerZoom: Int
    public var minzoom: Int
    public var maxzoom: Int
    /// MBTiles `json` row `vector_layers` (array of {id, description, minzoom, maxzoom, fields}).
    public var vectorLayers: JSONValue
    /// mapbox-geostats `tilestats` object.
    public var tilestats: JSONValue
}

/// Turns a recipe and its sources into gzip-compressed MVT tiles delivered to a `TileSink`.
///
/// Sources are read once, into compact projected records (`RecordStore`, spilled to a
/// temporary file for big sources). Then per zoom level (see README "How it works"): every
/// feature is cut into the tiles it touches (`TileCutter`: simplify, clip with buffer,
/// quantise, encode commands, `PolygonRepair`) on all cores, in column bands when the pieces
/// would not fit the memory budget; pieces are sorted by tile and tiles assembled in batches,
/// also on all cores (`TileAssembler`: `order`, `limit`, `layer_size` cap, gzip), each worker
/// writing its finished tile through `LockedSink`. Stats and checksums are added up in tile
/// order afterwards, so they do not depend on thread scheduling.
public struct Tiler {
    public let recipe: Recipe
    public let threads: Int
    /// Tiles assembled per batch: bounds the memory held by finished tiles before writing.
    public var batchSize = 4096
    /// Above this many features a layer's records are spilled to a temporary file.
    public var spillThreshold = 1_000_000
    /// Upper bound on tile pieces held at once; a zoom level with more is cut in column bands.
    public var maxPiecesPerPass = 4_000_000
    /// Called after each zoom level with the fraction of the work done (0–1), weighting
    /// zoom z by 4^z as the number of tiles grows.
    public var progress: (@Sendable (Double) -> Void)?

    public init(recipe: Recipe, threads: Int? = nil) {
        self.recipe = recipe
        self.threads = threads ?? Parallel.processorCount
    }

    struct LayerData: Sendable {
        var layer: Recipe.Layer
        var records: RecordStore
        var dynamic: Bool
    }

    public func run(resolveSource: (String) throws -> any FeatureSource, into sink: any TileSink) throws -> TilingReport {
        var warnings: [String] = []
        var bounds = BoundingBox.empty
        var data: [LayerData] = []
        var schemas: [LayerSchema] = []
        var featureCount = 0
        var table = AttributeTable()
        var recipeJSON = recipe.json
        var maxzoomChoices: [String] = []
        var chosenBecause: [String: String] = [:]
        for var layer in recipe.layers {
            let source: any FeatureSource
            do { source = try resolveSource(layer.source) } catch { throw TilingError.source(name: layer.source, message: "\(error)") }
            let records = RecordStore(spillThreshold: spillThreshold)
            var (schema, skipped) = (LayerSchema(layer: layer), 0)
            let dynamic = FeatureEvaluator.isDynamic(layer)
            var guess = layer.autoMaxzoom ? ZoomGuess() : nil
            do {
                try source.forEachFeature { f in
                    guard let g = f.geometry else { return }
                    let projected = FeatureRecord.project(g)
                    guard projected.valid else {
                        skipped += 1
                        return
                    }
                    guess?.add(points: projected.points, lines: projected.lines, polygons: projected.polygons)
                    var candidates: [ProjectedGeometry] = []
                    if !projected.points.isEmpty { candidates.append(.points(projected.points)) }
                    if !projected.lines.isEmpty { candidates.append(.lines(projected.lines)) }
                    if !projected.polygons.isEmpty { candidates.append(.polygons(projected.polygons)) }
                    for c in candidates {
                        guard var r = FeatureRecord(geometry: c) else { continue }
                        if dynamic { r.sourceID = f.id }
                        let out = FeatureEvaluator.evaluate(layer, properties: f.properties, id: f.id, geometryType: c.typeName, zoom: Double(layer.maxzoom))
                        if out.kept { schema.add(out.properties, type: c.type) }
                        if dynamic {
                            r.properties = f.properties
                        } else {
                            r.staticOutput = out.interned(out.properties.map { AttributeRef(key: table.intern(key: $0.key), value: table.intern(value: $0.value)) })
                        }
                        if layer.simplification.usesFeature { r.properties = f.properties }
                        if out.kept || dynamic {
                            try records.append(r)
                            if let b = g.boundingBox { bounds.extend(b) }
                        }
                    }
                }
            } catch let e as TilingError {
                throw e
            } catch {
                throw TilingError.source(name: layer.source, message: "\(error)")
            }
            if skipped > 0 { warnings.append("layer \(layer.name): \(skipped) feature(s) with invalid coordinates were skipped") }
            if let guess {
                let choice = guess.choose(minzoom: layer.minzoom)
                layer.maxzoom = choice?.zoom ?? layer.maxzoom
                let why = choice?.reason ?? "fewer than two distinct locations; the fallback z\(layer.maxzoom) is used"
                chosenBecause[layer.name] = "z\(layer.maxzoom) chosen from the data (default_maxzoom = auto): \(why)"
                maxzoomChoices.append("layer \(layer.name): maxzoom \(layer.maxzoom) chosen from the data (\(why))")
                recipeJSON = Tiler.setting(maxzoom: layer.maxzoom, of: layer.name, in: recipeJSON)
                schema.layer = layer
            }
            featureCount += records.count
            data.append(LayerData(layer: layer, records: records, dynamic: dynamic))
            schemas.append(schema)
        }

        var stats = data.map { LayerStats(minzoom: $0.layer.minzoom, maxzoom: $0.layer.maxzoom) }
        let minzoom = data.map(\.layer.minzoom).min() ?? 0
        let maxzoom = data.map(\.layer.maxzoom).max() ?? 0
        var tileCount = 0
        var droppedBySize = 0
        /// The tiles that lost the most features to `layer_size` (at most 5, most first).
        var worstTiles: [(tile: String, layer: String, dropped: Int)] = []
        table.freeze()
        let attributes = table
        let layers = data.map(\.layer)
        let writer = LockedSink(sink)
        var lastPieces = 0
        let totalWeight = (minzoom...maxzoom).reduce(0.0) { $0 + pow(4, Double($1)) }
        var doneWeight = 0.0
        for z in minzoom...maxzoom {
            defer {
                doneWeight += pow(4, Double(z))
                progress?(min(1, doneWeight / totalWeight))
            }
            // Estimate this zoom's pieces from the last one (×4 when every feature splits in
            // four) plus the layers starting here, and cut in column bands when they would not
            // fit the budget.
            let entering = data.filter { $0.layer.minzoom == z }.reduce(0) { $0 + $1.records.count }
            let estimate = lastPieces * 4 + entering
            let bands = min(1 << z, max(1, (estimate + maxPiecesPerPass - 1) / maxPiecesPerPass))
            lastPieces = 0
            for band in 0..<bands {
                let columns = ((1 << z) * band / bands)...((1 << z) * (band + 1) / bands - 1)
                let cut = try cut(zoom: z, columns: columns, data: data)
                lastPieces += cut.features.count
                var start = 0
                while start < cut.tiles.count {
                    let batch = cut.tiles[start..<min(cut.tiles.count, start + batchSize)]
                    start += batch.count
                    let built = Parallel.map(batch.count, threads: threads, state: { Gzip.Compressor() }) { compressor, i in
                        let (key, range) = batch[batch.startIndex + i]
                        var tile = TileAssembler.assemble(z: z, key: key, features: cut.features, order: cut.order[range], layers: layers,
                                                          outputs: cut.outputs, table: attributes, compressor: compressor)
                        writer.write(tile.id, tile.data)
                        tile.data = []
                        return tile
                    }
                    try writer.check()
                    for tile in built {
                        for (li, s) in tile.layerInfo.enumerated() {
                            guard let s else { continue }
                            stats[li].add(tile: tile.id, size: s.size, points: s.points, lines: s.lines, polygons: s.polygons, hash: s.hash, requiredSize: s.requiredSize)
                            droppedBySize += s.dropped
                            if s.dropped > 0 {
                                Tiler.noteWorst((tile.id.description, layers[li].name, s.dropped), in: &worstTiles)
                            }
                        }
                        if tile.written { tileCount += 1 }
                    }
                }
            }
        }
        if droppedBySize > 0 {
            let worst = worstTiles.map { "\($0.tile) (\($0.layer), \($0.dropped) dropped)" }.joined(separator: ", ")
            warnings.append("\(droppedBySize) feature(s) were dropped from tiles whose layer exceeded layer_size; worst tiles: \(worst). Raise tiles.layer_size, add a filter or tiles.limit, or lower maxzoom; see layer_stats capped_list")
        }
        var layerStats = JSONObject()
        for (i, d) in data.enumerated() {
            layerStats[d.layer.name] = stats[i].json
            // The job report records an automatic choice beside the layer's other statistics.
            if let why = chosenBecause[d.layer.name], var o = layerStats[d.layer.name]?.objectValue {
                o["maxzoom_chosen"] = .string(why)
                layerStats[d.layer.name] = .object(o)
            }
        }
        let metadata = TilesetMetadata.make(bounds: bounds, minzoom: minzoom, maxzoom: maxzoom, schemas: schemas)
        return TilingReport(layerStats: .object(layerStats), warnings: warnings, metadata: metadata, tileCount: tileCount,
                            featureCount: featureCount, recipe: recipeJSON, maxzoomChoices: maxzoomChoices)
    }

    /// Keeps the five tiles that dropped the most features, most first.
    static func noteWorst(_ entry: (tile: String, layer: String, dropped: Int), in worst: inout [(tile: String, layer: String, dropped: Int)]) {
        guard worst.count < 5 || entry.dropped > worst[worst.count - 1].dropped else { return }
        worst.append(entry)
        worst.sort { $0.dropped > $1.dropped }
        if worst.count > 5 { worst.removeLast() }
    }

    /// `json` with `layers.<layer>.maxzoom` set to `zoom`.
    static func setting(maxzoom zoom: Int, of layer: String, in json: JSONValue) -> JSONValue {
        guard var root = json.objectValue, var layers = root["layers"]?.objectValue, var l = layers[layer]?.objectValue else { return json }
        l["maxzoom"] = .int(Int64(zoom))
        layers[layer] = .object(l)
        root["layers"] = .object(layers)
        return .object(root)
    }

    /// The features of one zoom level (or band of columns) cut into tiles: `features` in cut
    /// order, `order` their indices sorted by (tile, cut order), `tiles` each tile's key and
    /// range in `order`, `outputs` what each piece's feature carries (`TileFeature.index`).
    struct ZoomCut: Sendable {
        var features: [TileFeature]
        var order: [Int]
        var tiles: [(key: UInt64, range: Range<Int>)]
        var outputs: [FeatureOutput]
    }

    /// Cuts every feature of every layer active at `z` into the tiles of `columns` (on all
    /// cores, streaming the records in chunks), then sorts the pieces by tile, keeping source
    /// order within a tile.
    private func cut(zoom z: Int, columns: ClosedRange<Int>, data: [LayerData]) throws -> ZoomCut {
        var features: [TileFeature] = []
        var keys: [UInt64] = []
        var outputs: [FeatureOutput] = []
        for (li, d) in data.enumerated() where (d.layer.minzoom...d.layer.maxzoom).contains(z) {
            let cutter = TileCutter(z: z, extent: d.layer.extent, bufferPercent: d.layer.bufferSize, columns: columns)
            let chunk = 4096
            // A zoom-only simplification (the common `["case", ["<", ["zoom"], 10], 8, 2]`) is
            // evaluated once here; one that reads attributes is evaluated per feature below.
            let perFeatureSimplification = d.layer.simplification.usesFeature
            let zoomSimplification = FeatureEvaluator.simplification(d.layer, properties: nil, geometryType: "", zoom: Double(z))
            let layerIndex = Int32(li)
            try d.records.forEachChunk(size: chunk * 16) { records in
                let parts = Parallel.map((records.count + chunk - 1) / chunk, threads: threads) { c in
                    var out: [TileFeature] = []
                    var outKeys: [UInt64] = []
                    var outOutputs: [FeatureOutput] = []
                    for r in records[(c * chunk)..<min(records.count, (c + 1) * chunk)] where cutter.mayTouch(r) {
                        let o = r.staticOutput ?? FeatureEvaluator.evaluate(d.layer, properties: r.properties ?? JSONObject(), id: r.sourceID, geometryType: r.geometry.typeName, zoom: Double(z))
                        guard o.kept else { continue }
                        let simplification = perFeatureSimplification
                            ? FeatureEvaluator.simplification(d.layer, properties: r.properties, geometryType: r.geometry.typeName, zoom: Double(z))
                            : zoomSimplification
                        let type = r.geometry.type
                        let index = Int32(outOutputs.count)
                        var used = false
                        cutter.cut(r.geometry, simplification: simplification) { key, cmds in
                            outKeys.append(key)
                            out.append(TileFeature(layer: layerIndex, index: index, type: type, commands: cmds))
                            used = true
                        }
                        if used { outOutputs.append(o) }
                    }
                    return (out, outKeys, outOutputs)
                }
                for (part, partKeys, partOutputs) in parts {
                    let base = Int32(outputs.count)
                    features += part.map { var f = $0; f.index += base; return f }
                    keys += partKeys
                    outputs += partOutputs
                }
            }
        }
        var order = Array(keys.indices)
        order.sort { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
        var tiles: [(key: UInt64, range: Range<Int>)] = []
        var start = 0
        while start < order.count {
            let key = keys[order[start]]
            var end = start + 1
            while end < order.count && keys[order[end]] == key { end += 1 }
            tiles.append((key, start..<end))
            start = end
        }
        return ZoomCut(features: features, order: order, tiles: tiles, outputs: outputs)
    }
}

/// Serialises tile writes from the assembling threads into a sink that is not thread-safe.
///
/// Writing from the workers (one at a time) overlaps SQLite with tile assembly; the first
/// error is kept and rethrown by `check()` on the calling thread.
final class LockedSink: @unchecked Sendable {
    private let sink: any TileSink
    private var mutex = pthread_mutex_t()
    private var error: (any Error)?

    init(_ sink: any TileSink) {
        self.sink = sink
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    func write(_ id: TileID, _ data: [UInt8]) {
        guard !data.isEmpty else { return }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard error == nil else { return }
        do { try sink.writeTile(id, data: data) } catch { self.error = error }
    }

    func check() throws {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if let error { throw error }
    }
}

/// One feature's geometry in one tile, with what the recipe made of its attributes.
struct TileFeature: Sendable {
    var layer: Int32
    /// Index of the feature's output in `ZoomCut.outputs`.
    var index: Int32
    var type: MVTGeometryType
    var commands: [UInt32]
}
