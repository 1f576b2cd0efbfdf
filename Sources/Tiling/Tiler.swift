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
    /// What the run held in memory against its budget.
    public var memory: TilingMemoryReport
    /// With `Tiler.keepState`: what the next incremental publish starts from.
    public var state: TilingState?
    /// With `Tiler.keepState`: every tile layer's record, in tile order.
    public var tileRecords: [TileLayerRecord] = []
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

/// What the tiler held in memory: its budget, the most its arenas held at once, the
/// process's peak RSS, and whether records were spilled or zooms cut in bands.
public struct TilingMemoryReport: Sendable {
    public var budget: Int
    public var peak: Int
    public var peakRSS: Int?
    public var spilledBytes: Int
    public var maxBands: Int
    /// Tiles whose pieces were trimmed to `layer_size` while being cut (denser than the budget).
    public var trimmedTiles: Int

    public var json: JSONValue {
        ["budget_bytes": .int(Int64(budget)), "peak_bytes": .int(Int64(peak)), "peak_rss_bytes": peakRSS.map { .int(Int64($0)) } ?? .null,
         "spilled_bytes": .int(Int64(spilledBytes)), "max_bands": .int(Int64(maxBands)), "trimmed_tiles": .int(Int64(trimmedTiles))]
    }
}

/// Turns a recipe and its sources into gzip-compressed MVT tiles delivered to a `TileSink`.
///
/// Sources are read once into records (`LayerLoader` on a second thread while the reader
/// parses, `RecordStore`: byte arenas, spilled to a temporary file beyond the budget's
/// share). Then per zoom level (see README "How it works"): every record is cut into the
/// tiles it touches (`TileCutter`: simplify, clip with buffer, quantise, encode commands,
/// `PolygonRepair`) on all cores, into byte arenas of pieces (`TilePiece`), in bands of
/// columns sized from `PieceEstimate` so each band's pieces fit the memory budget; pieces
/// are sorted by tile and tiles assembled in batches, also on all cores (`TileAssembler`:
/// `order`, `limit`, `layer_size` cap, gzip), each worker writing its finished tile through
/// `LockedSink`. Stats and checksums are added up in tile order afterwards, so they do not
/// depend on thread scheduling.
public struct Tiler {
    public let recipe: Recipe
    public let threads: Int
    /// Tiles assembled per batch: bounds the memory held by finished tiles before writing.
    public var batchSize = 4096
    /// Bytes the tiler may hold (`tiling_memory`); see `TilingMemory` for the split.
    public var memoryBudget = TilingMemory.defaultBudget
    /// Overrides the budget's share for records (tests force spilling with a tiny one).
    var recordMemoryLimit: Int?
    /// Overrides the budget's share for one pass of pieces (tests force bands with it).
    var pieceMemoryLimit: Int?
    /// Called after each zoom level with the fraction of the work done (0–1), weighting
    /// zoom z by 4^z as the number of tiles grows.
    public var progress: (@Sendable (Double) -> Void)?
    /// Keep what an incremental publish needs (`TilingReport.state`, `tileRecords`).
    public var keepState = false
    /// Asked between feature batches while loading, between record groups while cutting and
    /// between tile batches while assembling: true stops the run with `TilingError.canceled`
    /// within a fraction of a second (the daemon's SIGTERM), whatever the zoom or data size.
    public var shouldCancel: (@Sendable () -> Bool)?

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
        let memory = TilingMemory(budget: memoryBudget, recordBudget: recordMemoryLimit, pieceBudget: pieceMemoryLimit)
        var warnings: [String] = []
        var bounds = BoundingBox.empty
        var data: [LayerData] = []
        var estimates: [PieceEstimate] = []
        var schemas: [LayerSchema] = []
        var featureCount = 0
        var table = AttributeTable()
        var recipeJSON = recipe.json
        var maxzoomChoices: [String] = []
        var chosenBecause: [String: String] = [:]
        var stateLayers: [TilingState.Layer] = []
        for var layer in recipe.layers {
            let source: any FeatureSource
            do { source = try resolveSource(layer.source) } catch { throw TilingError.source(name: layer.source, message: "\(error)") }
            let loader = LayerLoader(layer: layer, memory: memory, table: table)
            do {
                try Parallel.pipeline(produce: { send in
                    var batch: [Feature] = []
                    batch.reserveCapacity(LayerLoader.batchSize)
                    try source.forEachFeature { f in
                        batch.append(f)
                        if batch.count == LayerLoader.batchSize {
                            try checkCancel()
                            try send(batch)
                            batch.removeAll(keepingCapacity: true)
                        }
                    }
                    if !batch.isEmpty { try send(batch) }
                }, consume: { batch in try loader.load(batch) })
                try loader.records.finish()
            } catch let e as TilingError {
                throw e
            } catch {
                throw TilingError.source(name: layer.source, message: "\(error)")
            }
            table = loader.table
            warnings += Tiler.loadWarnings(layer: layer.name, skipped: loader.skipped, tooWide: loader.tooWide)
            if let guess = loader.guess {
                let choice = guess.choose(minzoom: layer.minzoom)
                layer.maxzoom = choice?.zoom ?? layer.maxzoom
                let why = choice?.reason ?? "fewer than two distinct locations; the fallback z\(layer.maxzoom) is used"
                chosenBecause[layer.name] = "z\(layer.maxzoom) chosen from the data (default_maxzoom = auto): \(why)"
                maxzoomChoices.append("layer \(layer.name): maxzoom \(layer.maxzoom) chosen from the data (\(why))")
                recipeJSON = Tiler.setting(maxzoom: layer.maxzoom, of: layer.name, in: recipeJSON)
                loader.schema.layer = layer
            }
            bounds.extend(loader.bounds)
            if keepState {
                stateLayers.append(TilingState.Layer(schema: loader.schema, guess: loader.guess, bounds: loader.bounds, skipped: loader.skipped,
                                                     tooWide: loader.tooWide, records: loader.records.count, maxzoom: layer.maxzoom))
            }
            featureCount += loader.records.count
            data.append(LayerData(layer: layer, records: loader.records, dynamic: loader.dynamic))
            estimates.append(loader.estimate)
            schemas.append(loader.schema)
        }

        var collector = TileStatsCollector(layers: data.map(\.layer))
        var records: [TileLayerRecord] = []
        let minzoom = data.map(\.layer.minzoom).min() ?? 0
        let maxzoom = data.map(\.layer.maxzoom).max() ?? 0
        var tileCount = 0
        var maxBands = 0
        var trimmedTiles = 0
        table.freeze()
        let attributes = table
        let layers = data.map(\.layer)
        let writer = LockedSink(sink)
        let bandBudget = memory.bandBudget(recordBytes: data.reduce(0) { $0 + $1.records.bytes })
        let totalWeight = (minzoom...maxzoom).reduce(0.0) { $0 + pow(4, Double($1)) }
        var doneWeight = 0.0
        for z in minzoom...maxzoom {
            defer {
                doneWeight += pow(4, Double(z))
                progress?(min(1, doneWeight / totalWeight))
            }
            // Cut in bands of columns whose estimated pieces fit the band budget.
            var perColumn = [Int](repeating: 0, count: 1 << z)
            for (e, d) in zip(estimates, data) where (d.layer.minzoom...d.layer.maxzoom).contains(z) {
                for (x, b) in e.bytesPerColumn(z).enumerated() { perColumn[x] += b }
            }
            let bands = PieceEstimate.bands(perColumn, budget: bandBudget)
            maxBands = max(maxBands, bands.count)
            for columns in bands {
                let pieces = try cut(zoom: z, columns: columns, data: data, memory: memory)
                trimmedTiles += pieces.trimmed.values.reduce(0) { $0 + $1.count }
                defer { memory.release(pieces.footprint) }
                var start = 0
                while start < pieces.tiles.count {
                    try checkCancel()
                    let batch = pieces.tiles[start..<min(pieces.tiles.count, start + batchSize)]
                    start += batch.count
                    let built = Parallel.map(batch.count, threads: threads, state: { Gzip.Compressor() }) { compressor, i in
                        let (key, range) = batch[batch.startIndex + i]
                        var tile = TileAssembler.assemble(z: z, key: key, refs: pieces.refs[range], pieces: pieces, layers: layers,
                                                          table: attributes, compressor: compressor)
                        writer.write(tile.id, tile.data)
                        tile.data = []
                        return tile
                    }
                    try writer.check()
                    for tile in built {
                        for (li, s) in tile.layerInfo.enumerated() {
                            guard let s else { continue }
                            let record = TileLayerRecord(tile: tile.id, layer: li, info: s)
                            collector.add(record)
                            if keepState { records.append(record) }
                        }
                        if tile.written { tileCount += 1 }
                    }
                }
            }
        }
        if let warning = collector.warning { warnings.append(warning) }
        let metadata = TilesetMetadata.make(bounds: bounds, minzoom: minzoom, maxzoom: maxzoom, schemas: schemas)
        let memoryReport = TilingMemoryReport(budget: memory.budget, peak: memory.peak, peakRSS: TilingMemory.processPeakRSS(),
                                              spilledBytes: data.reduce(0) { $0 + $1.records.spilledBytes }, maxBands: maxBands, trimmedTiles: trimmedTiles)
        return TilingReport(layerStats: collector.layerStats(chosenBecause: chosenBecause), warnings: warnings, metadata: metadata, tileCount: tileCount,
                            featureCount: featureCount, recipe: recipeJSON, maxzoomChoices: maxzoomChoices, memory: memoryReport,
                            state: keepState ? TilingState(recipe: recipe.json, layers: stateLayers) : nil, tileRecords: records)
    }

    /// The warnings for features a layer skipped while loading: invalid coordinates, too many attributes.
    static func loadWarnings(layer: String, skipped: Int, tooWide: Int) -> [String] {
        var out: [String] = []
        if skipped > 0 { out.append("layer \(layer): \(skipped) feature(s) with invalid coordinates were skipped") }
        if tooWide > 0 {
            out.append("layer \(layer): \(tooWide) feature(s) with more than \(FeatureRecord.maxAttributes) attributes were skipped; choose the attributes to keep with features.attributes in the recipe")
        }
        return out
    }

    private func checkCancel() throws(TilingError) {
        if let shouldCancel, shouldCancel() { throw .canceled }
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

    /// Cuts every record of every layer active at `z` into the tiles of `columns` (on all
    /// cores, a group of record blocks at a time, one piece arena per block), then sorts the
    /// pieces by tile, keeping cut order within a tile.
    func cut(zoom z: Int, columns: ClosedRange<Int>, data: [LayerData], memory: TilingMemory) throws -> ZoomPieces {
        var pieces = ZoomPieces()
        var held = 0
        var trimAbove = memory.pieceBudget
        for (li, d) in data.enumerated() where (d.layer.minzoom...d.layer.maxzoom).contains(z) {
            let cutter = TileCutter(z: z, extent: d.layer.extent, bufferPercent: d.layer.bufferSize, columns: columns)
            // A zoom-only simplification (the common `["case", ["<", ["zoom"], 10], 8, 2]`) is
            // evaluated once here; one that reads attributes is evaluated per feature below.
            let perFeatureSimplification = d.layer.simplification.usesFeature
            let zoomSimplification = FeatureEvaluator.simplification(d.layer, properties: nil, geometryType: "", zoom: Double(z))
            let layer = d.layer
            try d.records.forEachGroup(max(2, threads * 4)) { group in
                try checkCancel()
                let parts = Parallel.map(group.count, threads: threads) { b in
                    let (arena, offsets) = group[b]
                    // Small at first (doubling as it fills): in a band most blocks cut little.
                    var out = CutBlock(capacity: 1 << 16)
                    for offset in offsets {
                        let r = RecordView(UnsafeRawPointer(arena.base + offset))
                        guard cutter.mayTouch(r) else { continue }
                        if r.hasStaticOutput {
                            let simplification = perFeatureSimplification
                                ? FeatureEvaluator.simplification(layer, properties: r.properties, geometryType: r.typeName, zoom: Double(z)) : zoomSimplification
                            cutter.cut(r, simplification: simplification) { key, cmds in
                                out.keys.append(key)
                                out.offsets.append(UInt32(out.arena.count))
                                TilePiece.append(to: out.arena, layer: li, record: r, commands: cmds)
                            }
                        } else {
                            let properties = r.properties ?? JSONObject()
                            let o = FeatureEvaluator.evaluate(layer, properties: properties, id: r.sourceID, geometryType: r.typeName, zoom: Double(z))
                            guard o.kept else { continue }
                            let simplification = perFeatureSimplification
                                ? FeatureEvaluator.simplification(layer, properties: properties, geometryType: r.typeName, zoom: Double(z)) : zoomSimplification
                            let index = out.outputs.count
                            var used = false
                            cutter.cut(r, simplification: simplification) { key, cmds in
                                out.keys.append(key)
                                out.offsets.append(UInt32(out.arena.count))
                                TilePiece.append(to: out.arena, layer: li, type: r.type, output: o, index: index, commands: cmds)
                                used = true
                            }
                            if used { out.outputs.append(o) }
                        }
                    }
                    return out
                }
                // A block that left no piece in these columns (most of them in a narrow band)
                // is not kept: its arena would count against the budget for nothing.
                for part in parts where !part.keys.isEmpty { pieces.add(part) }
                let now = pieces.footprint
                memory.reserve(now - held)
                held = now
                // Denser than any band can split: drop what can never fit layer_size. After an
                // attempt that freed too little, the next waits until the pieces grew by half.
                if held > trimAbove {
                    if pieces.trim(layers: data.map(\.layer)) {
                        let trimmed = pieces.footprint
                        memory.release(held - trimmed)
                        held = trimmed
                    }
                    trimAbove = max(memory.pieceBudget, held + held / 2)
                }
            }
        }
        pieces.sort()
        memory.release(held)
        memory.reserve(pieces.footprint)
        return pieces
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
