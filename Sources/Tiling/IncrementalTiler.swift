import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Where an incremental publish reads the tileset it extends (the live MBTiles).
public protocol IncrementalTileStore {
    /// The stored (gzip-compressed) tile, or nil when the tileset has none there.
    func tile(_ id: TileID) throws -> [UInt8]?
    /// The records of the tile's layers (none for a tile the tileset does not have).
    func records(_ id: TileID) throws -> [TileLayerRecord]
    /// Tiles the tileset holds (for the dirty share).
    func tileCount() throws -> Int
}

/// What an incremental publish changes: the tiles to write, their layer records, the state
/// to keep, and the report fields that do not need every tile's record.
public struct IncrementalUpdate: Sendable {
    /// The tiles the appended features change, rebuilt (gzip-compressed MVT). A tile they
    /// touch only where its layers are already capped keeps its bytes and is not listed.
    public var tiles: [(id: TileID, data: [UInt8])] = []
    /// Every tile the appended features touch (the dirty tiles): their records change.
    public var dirtyTiles: [TileID] = []
    /// The new records of the dirty tiles (all layers of each tile, replacing the old ones).
    public var records: [TileLayerRecord] = []
    public var state: TilingState
    public var metadata: TilesetMetadata
    /// The recipe as run (automatic maxzooms filled in), as the full tiler reports it.
    public var recipe: JSONValue
    /// Tiles that did not exist before (the tileset's tile count grows by this much).
    public var newTiles = 0
    /// Features (records) appended by this publish.
    public var appended = 0
    public var maxzoomChoices: [String] = []
    let layers: [Recipe.Layer]
    let chosenBecause: [String: String]
    let loadWarnings: [String]
    /// What the incremental run held in memory (its records and pieces only).
    public var memory = TilingMemoryReport(budget: 0, peak: 0, peakRSS: nil, spilledBytes: 0, maxBands: 1, trimmedTiles: 0)

    /// MTS `layer_stats` and `warnings` from every tile layer record of the updated tileset,
    /// given in tile order (zoom, column, row, layer) by `forEachRecord`.
    public func report(forEachRecord: ((TileLayerRecord) throws -> Void) throws -> Void) rethrows -> (layerStats: JSONValue, warnings: [String]) {
        var collector = TileStatsCollector(layers: layers)
        try forEachRecord { collector.add($0) }
        return (collector.layerStats(chosenBecause: chosenBecause), loadWarnings + (collector.warning.map { [$0] } ?? []))
    }
}

/// Re-tiles only the tiles appended features touch, producing exactly the tiles a full run
/// over the old and the new features together would (see README "Incremental publishing").
///
/// Why this is exact: a full run adds a tile's features in source order and caps the layer
/// at the first feature that does not fit `layer_size`. Appended features come after every
/// stored one, so for each tile they touch (cut with the same `TileCutter`, buffer and
/// simplification) the full run's layer is the stored layer followed by the new pieces:
/// - the stored layer was not capped: its features are decoded and re-added in their order
///   (same keys, values and size), then the new pieces go on until one does not fit;
/// - it was capped: the cap stopped at a stored feature, so nothing new gets in; only the
///   record (dropped count, required size) changes.
/// Schema, bounds and the automatic maxzoom's evidence grow from the saved `TilingState`.
///
/// What cannot be done this way returns a reason for a full rebuild instead: a recipe other
/// than the saved one, `tiles.order` or `tiles.limit` (they rank a tile's features against
/// ones a capped tile no longer holds), an automatic maxzoom that the new data changes, or
/// more dirty tiles than `maxDirtyShare` of the tileset.
public struct IncrementalTiler {
    public let recipe: Recipe
    public let state: TilingState
    public var threads: Int
    public var memoryBudget = TilingMemory.defaultBudget
    /// Above this share of the tileset's tiles, a full rebuild is cheaper.
    public var maxDirtyShare = 0.25

    public init(recipe: Recipe, state: TilingState, threads: Int? = nil) {
        self.recipe = recipe
        self.state = state
        self.threads = threads ?? Parallel.processorCount
    }

    public enum Outcome: Sendable {
        case update(IncrementalUpdate)
        /// Why the tileset has to be rebuilt from all its sources.
        case rebuild(String)
    }

    /// Why this recipe cannot be published incrementally at all, or nil.
    public static func unsupported(_ recipe: Recipe) -> String? {
        for layer in recipe.layers {
            if layer.order != nil { return "layer \(layer.name) sets tiles.order, which ranks a tile's features against ones a capped tile no longer holds" }
            if !layer.limits.isEmpty { return "layer \(layer.name) sets tiles.limit, which ranks a tile's features against ones the tile no longer holds" }
        }
        return nil
    }

    /// Loads the appended features (`appended`: layer source → features, in source order),
    /// cuts them and merges them into the stored tiles they touch.
    public func run(appended: [String: any FeatureSource], store: any IncrementalTileStore) throws -> Outcome {
        guard JSONWriter.string(recipe.json) == JSONWriter.string(state.recipe) else { return .rebuild("the recipe changed since the last full publish") }
        guard state.layers.count == recipe.layers.count else { return .rebuild("the saved state does not match the recipe's layers") }
        if let why = IncrementalTiler.unsupported(recipe) { return .rebuild(why) }
        let memory = TilingMemory(budget: memoryBudget)
        var table = AttributeTable()
        var data: [Tiler.LayerData] = []
        var next = state
        var recipeJSON = recipe.json
        var loadWarnings: [String] = [], choices: [String] = [], chosenBecause: [String: String] = [:]
        var appendedCount = 0
        for (i, var layer) in recipe.layers.enumerated() {
            var saved = state.layers[i]
            let loader = LayerLoader(layer: layer, memory: memory, table: table)
            saved.schema.layer = layer
            loader.schema = saved.schema
            if layer.autoMaxzoom {
                guard let guess = saved.guess else { return .rebuild("the saved state has no evidence for layer \(layer.name)'s automatic maxzoom") }
                loader.guess = guess
            }
            if let source = appended[layer.source] {
                do {
                    var batch: [Feature] = []
                    try source.forEachFeature { f in
                        batch.append(f)
                        if batch.count == LayerLoader.batchSize {
                            try loader.load(batch)
                            batch.removeAll(keepingCapacity: true)
                        }
                    }
                    try loader.load(batch)
                    try loader.records.finish()
                } catch let e as TilingError {
                    throw e
                } catch {
                    throw TilingError.source(name: layer.source, message: "\(error)")
                }
            } else {
                try loader.records.finish()
            }
            table = loader.table
            saved.skipped += loader.skipped
            saved.tooWide += loader.tooWide
            saved.records += loader.records.count
            saved.bounds.extend(loader.bounds)
            appendedCount += loader.records.count
            loadWarnings += Tiler.loadWarnings(layer: layer.name, skipped: saved.skipped, tooWide: saved.tooWide)
            if let guess = loader.guess {
                let choice = guess.choose(minzoom: layer.minzoom)
                let zoom = choice?.zoom ?? layer.maxzoom
                guard zoom == saved.maxzoom else {
                    return .rebuild("layer \(layer.name)'s automatic maxzoom moves from z\(saved.maxzoom) to z\(zoom) with the new features")
                }
                layer.maxzoom = zoom
                let why = choice?.reason ?? "fewer than two distinct locations; the fallback z\(layer.maxzoom) is used"
                chosenBecause[layer.name] = "z\(layer.maxzoom) chosen from the data (default_maxzoom = auto): \(why)"
                choices.append("layer \(layer.name): maxzoom \(layer.maxzoom) chosen from the data (\(why))")
                recipeJSON = Tiler.setting(maxzoom: layer.maxzoom, of: layer.name, in: recipeJSON)
                loader.schema.layer = layer
            }
            guard layer.maxzoom == saved.maxzoom else { return .rebuild("the saved state was made for another maxzoom of layer \(layer.name)") }
            saved.schema = loader.schema
            saved.guess = loader.guess
            next.layers[i] = saved
            data.append(Tiler.LayerData(layer: layer, records: loader.records, dynamic: loader.dynamic))
        }
        table.freeze()
        let layers = data.map(\.layer)
        var bounds = BoundingBox.empty
        for l in next.layers { bounds.extend(l.bounds) }
        let metadata = TilesetMetadata.make(bounds: bounds, minzoom: layers.map(\.minzoom).min() ?? 0, maxzoom: layers.map(\.maxzoom).max() ?? 0,
                                            schemas: next.layers.map(\.schema))
        var update = IncrementalUpdate(state: next, metadata: metadata, recipe: recipeJSON, appended: appendedCount, maxzoomChoices: choices,
                                       layers: layers, chosenBecause: chosenBecause, loadWarnings: loadWarnings)
        guard appendedCount > 0 else { return .update(update) }

        let limit = Int((try Double(store.tileCount()) * maxDirtyShare).rounded(.up))
        let tiler = Tiler(recipe: recipe, threads: threads)
        let compressor = Gzip.Compressor()
        for z in (layers.map(\.minzoom).min() ?? 0)...(layers.map(\.maxzoom).max() ?? 0) {
            let pieces = try tiler.cut(zoom: z, columns: 0...((1 << z) - 1), data: data, memory: memory)
            defer { memory.release(pieces.footprint) }
            guard update.dirtyTiles.count + pieces.tiles.count <= limit else {
                return .rebuild("the new features touch more than \(limit) tiles (\(Int(maxDirtyShare * 100))% of the tileset)")
            }
            for (key, range) in pieces.tiles {
                let id = TileID(z: z, x: Int(key >> 32), y: Int(key & 0xFFFF_FFFF))
                guard let merged = try merge(id: id, refs: pieces.refs[range], pieces: pieces, layers: layers, table: table, store: store) else {
                    return .rebuild("tile \(id) does not match its saved record")
                }
                if !merged.existed { update.newTiles += 1 }
                update.dirtyTiles.append(id)
                if let tile = merged.tile { update.tiles.append((id, tile.isEmpty ? [] : compressor.compress(tile))) }
                update.records += merged.records
            }
        }
        update.memory = TilingMemoryReport(budget: memory.budget, peak: memory.peak, peakRSS: TilingMemory.processPeakRSS(),
                                           spilledBytes: data.reduce(0) { $0 + $1.records.spilledBytes }, maxBands: 1, trimmedTiles: 0)
        return .update(update)
    }

    /// One dirty tile: the stored layers with the new pieces appended, or no `tile` when its
    /// bytes stay as they are (every layer with new pieces was capped); nil when the stored
    /// tile and its records disagree.
    private func merge(id: TileID, refs: ArraySlice<PieceRef>, pieces: ZoomPieces, layers: [Recipe.Layer], table: AttributeTable,
                       store: any IncrementalTileStore) throws -> (tile: [UInt8]?, records: [TileLayerRecord], existed: Bool)? {
        var fresh = [[(piece: PieceView, location: UInt64)]](repeating: [], count: layers.count)
        for r in refs {
            let v = pieces.view(r.location)
            fresh[v.layer].append((v, r.location))
        }
        let stored = try store.tile(id)
        let raw = try stored.map { Gzip.isGzip($0) ? try Gzip.decompress($0) : $0 } ?? []
        let storedLayers = try MVTLayerBuilder.layerRanges(of: raw)
        var records: [Int: TileLayerRecord] = [:]
        for r in try store.records(id) { records[r.layer] = r }
        var tile: [UInt8] = []
        var out: [TileLayerRecord] = []
        var changed = false
        for (li, layer) in layers.enumerated() {
            let oldRange = storedLayers.first { $0.name == layer.name }?.range
            let saved = records[li]
            guard (oldRange == nil) == ((saved?.points ?? 0) + (saved?.lines ?? 0) + (saved?.polygons ?? 0) == 0) else { return nil }
            guard saved == nil || oldRange?.count == saved!.size else { return nil }
            let new = fresh[li]
            guard !new.isEmpty else {
                // Unchanged layer: the stored bytes as they were.
                if let oldRange { MVTTileEncoder.appendLayer(Array(raw[oldRange]), to: &tile) }
                if let saved { out.append(saved) }
                continue
            }
            var builder = MVTLayerBuilder(name: layer.name, extent: UInt32(layer.extent))
            if let oldRange {
                do { builder = try MVTLayerBuilder(resuming: raw, range: oldRange) } catch { return nil }
            }
            let wasCapped = (saved?.dropped ?? 0) > 0
            var record = saved ?? TileLayerRecord(tile: id, layer: li, size: 0, points: 0, lines: 0, polygons: 0,
                                                  hash: FNV1a().value, requiredSize: nil, dropped: 0)
            if wasCapped {
                // Capped at a stored feature: every appended one is left out too.
                var required = record.requiredSize ?? record.size
                for f in new { required += add(f, to: &builder, pieces, table, measureOnly: true) }
                record.requiredSize = required
                record.dropped += new.count
            } else {
                let cap = layer.layerSize * 1024
                var h = FNV1a(value: record.hash)
                for i in new.indices {
                    let before = builder.snapshot
                    add(new[i], to: &builder, pieces, table, measureOnly: false)
                    if builder.size > cap {
                        var full = builder.size
                        for j in (i + 1)..<new.count { full += add(new[j], to: &builder, pieces, table, measureOnly: true) }
                        builder.rollback(to: before)
                        record.requiredSize = full
                        record.dropped = new.count - i
                        break
                    }
                    TileAssembler.hash(new[i], into: &h, pieces: pieces, table: table)
                    switch new[i].piece.type {
                    case .point: record.points += 1
                    case .lineString: record.lines += 1
                    case .polygon: record.polygons += 1
                    case .unknown: break
                    }
                }
                record.hash = h.value
                record.size = builder.size
            }
            out.append(record)
            if wasCapped {
                // Capped at a stored feature: the stored bytes as they were.
                if let oldRange { MVTTileEncoder.appendLayer(Array(raw[oldRange]), to: &tile) }
            } else if builder.featureCount > 0 {
                MVTTileEncoder.appendLayer(builder.encoded(), to: &tile)
                changed = true
            }
        }
        return (changed ? tile : nil, out, stored != nil)
    }

    /// Adds (or sizes) a new piece with its attributes as strings (the builder holds the stored
    /// layer's keys and values, which are not in this run's table).
    @discardableResult
    private func add(_ f: (piece: PieceView, location: UInt64), to b: inout MVTLayerBuilder, _ pieces: ZoomPieces, _ table: AttributeTable, measureOnly: Bool) -> Int {
        let p = f.piece
        let properties: [(key: String, value: MVTValue)]
        if p.isDynamic {
            properties = pieces.output(f.location, p).properties
        } else {
            properties = (0..<p.attributeCount).map { i in
                let a = p.attribute(i)
                return (table.keys[Int(a.key)], table.values[Int(a.value)])
            }
        }
        return b.add(id: p.id, type: p.type, packedGeometry: p.packedGeometry, properties: properties, measureOnly: measureOnly)
    }
}
