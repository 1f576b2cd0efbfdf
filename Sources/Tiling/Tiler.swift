import GeoModel

/// What a tiling run produced: MTS `layer_stats` and `warnings`, and the tileset metadata.
public struct TilingReport: Sendable {
    /// MTS job `layer_stats`: layer name → statistics.
    public var layerStats: JSONValue
    /// MTS job `warnings` (features dropped for size, skipped invalid features).
    public var warnings: [String]
    public var metadata: TilesetMetadata
    public var tileCount: Int
    public var featureCount: Int
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
/// Pipeline per zoom level (see README "How it works"): every feature is cut into the tiles it
/// touches (`TileCutter`: simplify, clip with buffer, quantise, encode commands) on all cores;
/// then tiles are assembled in ascending (x, y) order in batches, also on all cores
/// (`order`, `limit`, `layer_size` cap, gzip), and written to the sink in order so stats and
/// checksums are deterministic. Sources are read once, into compact projected records.
public struct Tiler {
    public let recipe: Recipe
    public let threads: Int
    /// Tiles assembled per batch: bounds the memory held by finished tiles before writing.
    public var batchSize = 512

    public init(recipe: Recipe, threads: Int? = nil) {
        self.recipe = recipe
        self.threads = threads ?? Parallel.processorCount
    }

    struct LayerData: Sendable {
        var layer: Recipe.Layer
        var records: [FeatureRecord]
        var dynamic: Bool
    }

    public func run(resolveSource: (String) throws -> any FeatureSource, into sink: any TileSink) throws -> TilingReport {
        var warnings: [String] = []
        var bounds = BoundingBox.empty
        var data: [LayerData] = []
        var schemas: [LayerSchema] = []
        var featureCount = 0
        for layer in recipe.layers {
            let source: any FeatureSource
            do { source = try resolveSource(layer.source) } catch { throw TilingError.source(name: layer.source, message: "\(error)") }
            var (records, schema, skipped) = ([FeatureRecord](), LayerSchema(layer: layer), 0)
            let dynamic = FeatureEvaluator.isDynamic(layer)
            do {
                try source.forEachFeature { f in
                    guard let g = f.geometry else { return }
                    let projected = FeatureRecord.project(g)
                    guard projected.valid else {
                        skipped += 1
                        return
                    }
                    var candidates: [ProjectedGeometry] = []
                    if !projected.points.isEmpty { candidates.append(.points(projected.points)) }
                    if !projected.lines.isEmpty { candidates.append(.lines(projected.lines)) }
                    if !projected.polygons.isEmpty { candidates.append(.polygons(projected.polygons)) }
                    for c in candidates {
                        guard var r = FeatureRecord(geometry: c) else { continue }
                        r.sourceID = f.id
                        let out = FeatureEvaluator.evaluate(layer, properties: f.properties, id: f.id, geometryType: c.typeName, zoom: Double(layer.maxzoom))
                        if dynamic { r.properties = f.properties } else { r.staticOutput = out }
                        if case .call = layer.simplification { r.properties = f.properties }
                        if out.kept || dynamic {
                            if out.kept { schema.add(out.properties, type: c.type) }
                            records.append(r)
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
            featureCount += records.count
            data.append(LayerData(layer: layer, records: records, dynamic: dynamic))
            schemas.append(schema)
        }

        var stats = data.map { LayerStats(minzoom: $0.layer.minzoom, maxzoom: $0.layer.maxzoom) }
        let minzoom = recipe.layers.map(\.minzoom).min() ?? 0
        let maxzoom = recipe.layers.map(\.maxzoom).max() ?? 0
        var tileCount = 0
        var droppedBySize = 0
        for z in minzoom...maxzoom {
            let buckets = cut(zoom: z, data: data)
            let keys = buckets.keys.sorted()
            var start = 0
            while start < keys.count {
                let batch = Array(keys[start..<min(keys.count, start + batchSize)])
                start += batch.count
                let layers = data.map(\.layer)
                let built = Parallel.map(batch.count, threads: threads) { i in
                    TileAssembler.assemble(z: z, key: batch[i], features: buckets[batch[i]]!, layers: layers)
                }
                for tile in built {
                    for (li, s) in tile.layerInfo.enumerated() {
                        guard let s else { continue }
                        stats[li].add(tile: tile.id, size: s.size, points: s.points, lines: s.lines, polygons: s.polygons, hash: s.hash, requiredSize: s.requiredSize)
                        droppedBySize += s.dropped
                    }
                    guard !tile.data.isEmpty else { continue }
                    try sink.writeTile(tile.id, data: tile.data)
                    tileCount += 1
                }
            }
        }
        if droppedBySize > 0 {
            warnings.append("\(droppedBySize) feature(s) were dropped from tiles whose layer exceeded layer_size; see layer_stats capped_list")
        }
        var layerStats = JSONObject()
        for (i, d) in data.enumerated() { layerStats[d.layer.name] = stats[i].json }
        let metadata = TilesetMetadata.make(bounds: bounds, minzoom: minzoom, maxzoom: maxzoom, schemas: schemas)
        return TilingReport(layerStats: .object(layerStats), warnings: warnings, metadata: metadata, tileCount: tileCount, featureCount: featureCount)
    }

    /// Cuts every feature of every layer active at `z` into tiles; returns tile key → per-layer features.
    private func cut(zoom z: Int, data: [LayerData]) -> [UInt64: [[TileFeature]]] {
        var buckets: [UInt64: [[TileFeature]]] = [:]
        let layerCount = data.count
        for (li, d) in data.enumerated() where (d.layer.minzoom...d.layer.maxzoom).contains(z) {
            let cutter = TileCutter(z: z, extent: d.layer.extent, bufferPercent: d.layer.bufferSize)
            let chunk = 2048
            let chunks = (d.records.count + chunk - 1) / chunk
            let parts = Parallel.map(chunks, threads: threads) { c in
                var out: [(UInt64, TileFeature)] = []
                for r in d.records[(c * chunk)..<min(d.records.count, (c + 1) * chunk)] {
                    let o = r.staticOutput ?? FeatureEvaluator.evaluate(d.layer, properties: r.properties ?? JSONObject(), id: r.sourceID, geometryType: r.geometry.typeName, zoom: Double(z))
                    guard o.kept else { continue }
                    var simplification = o.simplification
                    if r.staticOutput != nil, case .call = d.layer.simplification {
                        simplification = FeatureEvaluator.simplification(d.layer, properties: r.properties, geometryType: r.geometry.typeName, zoom: Double(z))
                    }
                    cutter.cut(r.geometry, simplification: simplification) { key, cmds in
                        out.append((key, TileFeature(type: r.geometry.type, commands: cmds, output: o)))
                    }
                }
                return out
            }
            for part in parts {
                for (key, f) in part {
                    if buckets[key] == nil { buckets[key] = Array(repeating: [], count: layerCount) }
                    buckets[key]![li].append(f)
                }
            }
        }
        return buckets
    }
}

/// One feature's geometry in one tile, with what the recipe made of its attributes.
struct TileFeature: Sendable {
    var type: MVTGeometryType
    var commands: [UInt32]
    var output: FeatureOutput
}
