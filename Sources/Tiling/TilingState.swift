import GeoModel

extension TileLayerRecord {
    init(tile: TileID, layer: Int, info: TileAssembler.LayerInfo) {
        self.init(tile: tile, layer: layer, size: info.size, points: info.points, lines: info.lines, polygons: info.polygons,
                  hash: info.hash, requiredSize: info.requiredSize, dropped: info.dropped)
    }
}

/// What a tiling run knew beyond its tiles, kept with the tileset so the next append can be
/// tiled alone (`IncrementalTiler`): the recipe as given, and per layer the attribute schema
/// (`vector_layers`, `tilestats`), the automatic maxzoom's evidence, the bounds and counts.
///
/// Everything here grows by adding features in source order, so adding the appended features
/// to it gives exactly what a full run over all features computes.
public struct TilingState: Sendable {
    struct Layer: Sendable {
        var schema: LayerSchema
        var guess: ZoomGuess?
        var bounds: BoundingBox
        var skipped: Int
        /// Features skipped for having more attributes than a record holds.
        var tooWide: Int
        var records: Int
        /// The maxzoom the run used (the chosen one for `default_maxzoom = auto`).
        var maxzoom: Int
    }

    /// The recipe document as given (before any automatic maxzoom was filled in).
    public var recipe: JSONValue
    var layers: [Layer]

    /// Features (records) over all layers.
    public var featureCount: Int { layers.reduce(0) { $0 + $1.records } }

    init(recipe: JSONValue, layers: [Layer]) {
        self.recipe = recipe
        self.layers = layers
    }

    static let magic: [UInt8] = Array("tiledrop-state-1\n".utf8)

    /// The state as bytes: a magic line, a u32 length and the JSON part, then per layer a
    /// u32 length and the guess's evidence (empty when the layer's maxzoom is fixed).
    public var encoded: [UInt8] {
        var out = TilingState.magic
        let json = JSONWriter.string(["recipe": recipe, "layers": .array(layers.map(TilingState.json))])
        TilingState.appendU32(UInt32(json.utf8.count), to: &out)
        out.append(contentsOf: json.utf8)
        for l in layers {
            let g = l.guess?.stateBytes ?? []
            TilingState.appendU32(UInt32(g.count), to: &out)
            out.append(contentsOf: g)
        }
        return out
    }

    /// Reads bytes written by `encoded`; throws when they are not a state of this version.
    public init(decoding bytes: [UInt8]) throws(TilingError) {
        let bad = TilingError.source(name: "incremental state", message: "the tileset's saved tiling state is damaged; a full rebuild replaces it")
        guard bytes.starts(with: TilingState.magic) else { throw bad }
        var at = TilingState.magic.count
        func u32() throws(TilingError) -> Int {
            guard at + 4 <= bytes.count else { throw bad }
            defer { at += 4 }
            return Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        let n = try u32()
        guard at + n <= bytes.count, let root = (try? JSONParser.parse(Array(bytes[at..<(at + n)])))?.objectValue,
              let recipe = root["recipe"], let list = root["layers"]?.arrayValue else { throw bad }
        at += n
        var layers: [Layer] = []
        for item in list {
            guard var layer = TilingState.layer(item) else { throw bad }
            let g = try u32()
            guard at + g <= bytes.count else { throw bad }
            if g > 0 {
                guard let guess = ZoomGuess(stateBytes: bytes[at..<(at + g)]) else { throw bad }
                layer.guess = guess
            }
            at += g
            layers.append(layer)
        }
        self.init(recipe: recipe, layers: layers)
    }

    private static func appendU32(_ v: UInt32, to out: inout [UInt8]) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    private static func json(_ l: Layer) -> JSONValue {
        var attributes: [JSONValue] = []
        for k in l.schema.order {
            let a = l.schema.attributes[k]!
            attributes.append(["key": .string(k), "types": .array(a.types.sorted().map { .string($0) }),
                               "values": .array(a.values.map(encode)), "min": bits(a.min), "max": bits(a.max)])
        }
        let b = l.bounds
        return ["count": .int(Int64(l.schema.count)), "geometry": .array(l.schema.geometryCounts.map { .int(Int64($0)) }),
                "attributes": .array(attributes), "bounds": .array([b.west, b.south, b.east, b.north].map(bits)),
                "skipped": .int(Int64(l.skipped)), "too_wide": .int(Int64(l.tooWide)), "records": .int(Int64(l.records)), "maxzoom": .int(Int64(l.maxzoom))]
    }

    private static func layer(_ v: JSONValue) -> Layer? {
        guard let o = v.objectValue, let count = o["count"]?.intValue, let geometry = o["geometry"]?.arrayValue?.compactMap(\.intValue),
              geometry.count == 4, let attributes = o["attributes"]?.arrayValue, let b = o["bounds"]?.arrayValue?.compactMap(double),
              b.count == 4, let skipped = o["skipped"]?.intValue, let records = o["records"]?.intValue, let maxzoom = o["maxzoom"]?.intValue
        else { return nil }
        // The layer itself is filled in from the recipe by the incremental tiler.
        var schema = LayerSchema(layer: Recipe.Layer(name: "", source: "", minzoom: 0, maxzoom: 0))
        schema.count = count
        schema.geometryCounts = geometry
        for item in attributes {
            guard let a = item.objectValue, let key = a["key"]?.stringValue, let types = a["types"]?.arrayValue?.compactMap(\.stringValue),
                  let values = a["values"]?.arrayValue, let lo = a["min"].flatMap(double), let hi = a["max"].flatMap(double) else { return nil }
            var attribute = LayerSchema.Attribute()
            attribute.types = Set(types)
            for value in values {
                guard let decoded = decode(value) else { return nil }
                attribute.values.insert(decoded)
            }
            attribute.min = lo
            attribute.max = hi
            schema.order.append(key)
            schema.attributes[key] = attribute
        }
        return Layer(schema: schema, guess: nil, bounds: BoundingBox(west: b[0], south: b[1], east: b[2], north: b[3]),
                     skipped: skipped, tooWide: o["too_wide"]?.intValue ?? 0, records: records, maxzoom: maxzoom)
    }

    /// Doubles are kept as their bit patterns (hex text), so infinities and every bit survive.
    private static func bits(_ d: Double) -> JSONValue { .string(String(d.bitPattern, radix: 16)) }

    private static func double(_ v: JSONValue) -> Double? {
        v.stringValue.flatMap { UInt64($0, radix: 16) }.map(Double.init(bitPattern:))
    }

    /// An MVT value with its proto type: `[kind, text]`.
    private static func encode(_ v: MVTValue) -> JSONValue {
        switch v {
        case .string(let s): ["s", .string(s)]
        case .float(let f): ["f", .string(String(f.bitPattern, radix: 16))]
        case .double(let d): ["d", .string(String(d.bitPattern, radix: 16))]
        case .int(let i): ["i", .string(String(i))]
        case .uint(let u): ["u", .string(String(u))]
        case .sint(let i): ["z", .string(String(i))]
        case .bool(let b): ["b", .bool(b)]
        }
    }

    private static func decode(_ v: JSONValue) -> MVTValue? {
        guard let pair = v.arrayValue, pair.count == 2, let kind = pair[0].stringValue else { return nil }
        switch kind {
        case "s": return pair[1].stringValue.map { .string($0) }
        case "f": return pair[1].stringValue.flatMap { UInt32($0, radix: 16) }.map { .float(Float(bitPattern: $0)) }
        case "d": return pair[1].stringValue.flatMap { UInt64($0, radix: 16) }.map { .double(Double(bitPattern: $0)) }
        case "i": return pair[1].stringValue.flatMap { Int64($0) }.map { .int($0) }
        case "u": return pair[1].stringValue.flatMap { UInt64($0) }.map { .uint($0) }
        case "z": return pair[1].stringValue.flatMap { Int64($0) }.map { .sint($0) }
        case "b": return pair[1].boolValue.map { .bool($0) }
        default: return nil
        }
    }
}

/// Adds up `layer_stats` and the size warning from tile layer records in tile order: the
/// full tiler feeds it as tiles are built, the incremental tiler from the stored records.
struct TileStatsCollector {
    private(set) var stats: [LayerStats]
    private let names: [String]
    private var droppedBySize = 0
    /// The tiles that lost the most features to `layer_size` (at most 5, most first).
    private var worstTiles: [(tile: String, layer: String, dropped: Int)] = []

    init(layers: [Recipe.Layer]) {
        stats = layers.map { LayerStats(minzoom: $0.minzoom, maxzoom: $0.maxzoom) }
        names = layers.map(\.name)
    }

    mutating func add(_ r: TileLayerRecord) {
        stats[r.layer].add(tile: r.tile, size: r.size, points: r.points, lines: r.lines, polygons: r.polygons, hash: r.hash, requiredSize: r.requiredSize)
        droppedBySize += r.dropped
        if r.dropped > 0 { Tiler.noteWorst((r.tile.description, names[r.layer], r.dropped), in: &worstTiles) }
    }

    /// The size warning (nil when nothing was dropped).
    var warning: String? {
        guard droppedBySize > 0 else { return nil }
        let worst = worstTiles.map { "\($0.tile) (\($0.layer), \($0.dropped) dropped)" }.joined(separator: ", ")
        return "\(droppedBySize) feature(s) were dropped from tiles whose layer exceeded layer_size; worst tiles: \(worst). Raise tiles.layer_size, add a filter or tiles.limit, or lower maxzoom; see layer_stats capped_list"
    }

    /// MTS `layer_stats`, with the automatic maxzoom's reason beside a layer's statistics.
    func layerStats(chosenBecause: [String: String]) -> JSONValue {
        var out = JSONObject()
        for (i, name) in names.enumerated() {
            out[name] = stats[i].json
            if let why = chosenBecause[name], var o = out[name]?.objectValue {
                o["maxzoom_chosen"] = .string(why)
                out[name] = .object(o)
            }
        }
        return .object(out)
    }
}
