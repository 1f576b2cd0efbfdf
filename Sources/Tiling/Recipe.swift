import GeoModel

/// A Mapbox Tiling Service recipe, version 1 (see `seeds/001_*` and the MTS recipe reference).
///
/// `Recipe(json:)` validates everything at once and throws `TilingError.invalidRecipe` with
/// every problem, worded like MTS's `validateRecipe` endpoint where MTS has a wording
/// (`minzoom 22 cannot be larger than maxzoom 11`). Unknown fields are errors, so a typo
/// never silently changes a tileset.
public struct Recipe: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var source: String
        public var minzoom: Int
        public var maxzoom: Int
        /// `features.id`: the feature id expression (default: the source feature's numeric id).
        public var id: Expression?
        /// `features.filter`: features for which it is not `true` are left out.
        public var filter: Expression?
        /// `features.attributes.set`: computed attributes, in recipe order.
        public var set: [(name: String, value: Expression)] = []
        /// `features.attributes.allowed_output`: when present, only these attributes are kept.
        public var allowedOutput: [String]?
        /// `features.simplification`: Douglas–Peucker tolerance in tile units (default 4).
        public var simplification: Expression = .literal(4)
        /// `tiles.layer_size`: cap on the encoded layer per tile, in KB (default 500).
        public var layerSize: Int = 500
        /// `tiles.extent` (default 4096).
        public var extent: Int = 4096
        /// `tiles.buffer_size`: buffer around each tile, in percent of the tile width (default 0.5).
        public var bufferSize: Double = 0.5
        /// `tiles.limit`: `[["lowest_where_in_distance" | "highest_where_in_distance", filter, count, attribute], …]`.
        public var limits: [Limit] = []
        /// `tiles.order`: features are added to a tile in ascending order of this value.
        public var order: Expression?
        /// Not an MTS field: the tiler replaces `maxzoom` with one chosen from the data
        /// (`ZoomGuess`); `maxzoom` is the fallback when the data has too few locations.
        public var autoMaxzoom = false
        /// Not an MTS field: attributes whose values are arrays or objects (GPX
        /// `coordinateProperties`, nested MapHub data) are left out of tiles unless
        /// `allowed_output` names them. Default recipes set it; MTS recipes keep them.
        public var skipNestedAttributes = false

        public init(name: String, source: String, minzoom: Int, maxzoom: Int) {
            self.name = name
            self.source = source
            self.minzoom = minzoom
            self.maxzoom = maxzoom
        }
    }

    /// One `tiles.limit` rule: keep at most `count` matching features per tile, by attribute.
    public struct Limit: Sendable {
        public var highest: Bool
        public var filter: Expression
        public var count: Int
        public var attribute: String
    }

    public static let maxZoomLimit = 16
    public static let maxLayers = 20

    public var version: Int
    public var layers: [Layer]
    /// MTS `incremental`: appends re-tile only the tiles they touch (see `IncrementalTiler`).
    public var incremental = false
    /// The recipe as given (stored with publish jobs, as MTS does).
    public var json: JSONValue

    /// The maxzoom an automatic choice falls back to when the data has too few locations.
    public static let fallbackMaxzoom = 10

    /// The default for a map without a recipe: one layer named after the map, from z0 to
    /// `maxzoom`, or to a zoom chosen from the data when `maxzoom` is nil. Attributes holding
    /// arrays or objects are left out of its tiles.
    public static func defaultRecipe(map: String, maxzoom: Int?) -> Recipe {
        let name = String(map.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
        let source = "tiledrop://tileset-source/\(map)"
        let zoom = maxzoom ?? fallbackMaxzoom
        let json: JSONValue = ["version": 1, "layers": .object(JSONObject([.init(key: name, value: ["source": .string(source), "minzoom": 0, "maxzoom": .int(Int64(zoom))])]))]
        // The generated recipe is valid by construction; parsing it keeps one code path.
        var recipe = (try? Recipe(json: json)) ?? Recipe(version: 1, layers: [Layer(name: name, source: source, minzoom: 0, maxzoom: zoom)], json: json)
        recipe.layers[0].autoMaxzoom = maxzoom == nil
        recipe.layers[0].skipNestedAttributes = true
        return recipe
    }

    init(version: Int, layers: [Layer], json: JSONValue) {
        self.version = version
        self.layers = layers
        self.json = json
    }

    /// Parses and validates a recipe document.
    public init(json: JSONValue) throws(TilingError) {
        var errors: [String] = []
        self.json = json
        version = 1
        layers = []
        guard let root = json.objectValue else { throw .invalidRecipe(errors: ["recipe must be a JSON object"]) }
        for key in root.keys where key != "version" && key != "layers" && key != "incremental" {
            errors.append("recipe: unknown property \"\(key)\"; a v1 recipe has only version, layers and incremental")
        }
        switch root["incremental"] {
        case nil: break
        case .bool(let b)?: incremental = b
        case let v?: errors.append("recipe: incremental must be true or false, found \(v.typeName)")
        }
        switch root["version"] {
        case nil: errors.append("recipe: missing required property \"version\"")
        case .some(let v) where v.intValue == 1: break
        case .some(let v): errors.append("recipe: version \(JSONWriter.string(v)) is not supported; the only recipe version is 1")
        }
        if let layersValue = root["layers"] {
            if let layersObject = layersValue.objectValue {
                if layersObject.isEmpty { errors.append("layers: a recipe needs at least 1 layer") }
                if layersObject.count > Recipe.maxLayers { errors.append("layers: a recipe may have at most \(Recipe.maxLayers) layers, found \(layersObject.count)") }
                for m in layersObject {
                    if let layer = Recipe.parseLayer(name: m.key, m.value, errors: &errors) { layers.append(layer) }
                }
            } else {
                errors.append("layers: must be an object of layer name to layer, found \(layersValue.typeName)")
            }
        } else {
            errors.append("recipe: missing required property \"layers\"")
        }
        if !errors.isEmpty { throw .invalidRecipe(errors: errors) }
    }

    /// Validation only: the errors `Recipe(json:)` would report (empty when valid).
    public static func validate(_ json: JSONValue) -> [String] {
        do throws(TilingError) {
            _ = try Recipe(json: json)
            return []
        } catch {
            if case .invalidRecipe(let errors) = error { return errors }
            return [error.description]
        }
    }

    private static func parseLayer(name: String, _ value: JSONValue, errors: inout [String]) -> Layer? {
        let p = "layers.\(name)"
        if name.isEmpty || !name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }) {
            errors.append("\(p): layer names may only contain letters, numbers and underscores ([A-Za-z0-9_])")
        }
        guard let o = value.objectValue else {
            errors.append("\(p): a layer must be an object, found \(value.typeName)")
            return nil
        }
        let before = errors.count
        unknown(o, allowed: ["source", "minzoom", "maxzoom", "features", "tiles"], path: p, errors: &errors)
        var source = ""
        switch o["source"] {
        case .string(let s) where !s.isEmpty: source = s
        case nil: errors.append("\(p): missing required property \"source\"")
        default: errors.append("\(p).source: must be a non-empty string (tiledrop://tileset-source/<map> or a file path)")
        }
        // MTS reports an inverted range with this one message (its validateRecipe example),
        // so the out-of-range minzoom is not reported twice.
        var minzoom: Int?
        if let lo = o["minzoom"]?.intValue, let hi = o["maxzoom"]?.intValue, lo > hi {
            errors.append("minzoom \(lo) cannot be larger than maxzoom \(hi)")
        } else {
            minzoom = zoom(o["minzoom"], "minzoom", p, &errors)
        }
        let maxzoom = zoom(o["maxzoom"], "maxzoom", p, &errors)
        var layer = Layer(name: name, source: source, minzoom: minzoom ?? 0, maxzoom: maxzoom ?? 0)
        if let f = o["features"] { parseFeatures(f, into: &layer, path: "\(p).features", errors: &errors) }
        if let t = o["tiles"] { parseTiles(t, into: &layer, path: "\(p).tiles", errors: &errors) }
        return errors.count == before ? layer : nil
    }

    private static func zoom(_ v: JSONValue?, _ key: String, _ p: String, _ errors: inout [String]) -> Int? {
        guard let v else {
            errors.append("\(p): missing required property \"\(key)\"")
            return nil
        }
        guard let z = v.intValue else {
            errors.append("\(p).\(key): must be an integer, found \(JSONWriter.string(v))")
            return nil
        }
        guard (0...maxZoomLimit).contains(z) else {
            errors.append("\(p).\(key): \(key) \(z) must be between 0 and \(maxZoomLimit)")
            return nil
        }
        return z
    }

    private static func unknown(_ o: JSONObject, allowed: Set<String>, path: String, errors: inout [String]) {
        for k in o.keys where !allowed.contains(k) {
            errors.append("\(path): unknown property \"\(k)\"; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    private static func parseFeatures(_ v: JSONValue, into layer: inout Layer, path p: String, errors: inout [String]) {
        guard let o = v.objectValue else {
            errors.append("\(p): must be an object, found \(v.typeName)")
            return
        }
        unknown(o, allowed: ["id", "filter", "attributes", "simplification"], path: p, errors: &errors)
        if let id = o["id"] { layer.id = Expression.parse(id, path: "\(p).id", errors: &errors) }
        if let f = o["filter"] { layer.filter = Expression.parse(f, path: "\(p).filter", errors: &errors) }
        if let s = o["simplification"] {
            if let so = s.objectValue {
                unknown(so, allowed: ["distance", "outward_only"], path: "\(p).simplification", errors: &errors)
                if let d = so["distance"] { layer.simplification = Expression.parse(d, path: "\(p).simplification.distance", errors: &errors) }
                if let oo = so["outward_only"], oo.boolValue == nil { errors.append("\(p).simplification.outward_only: must be a boolean") }
            } else {
                layer.simplification = Expression.parse(s, path: "\(p).simplification", errors: &errors)
            }
            if case .literal(let lit) = layer.simplification, lit.doubleValue.map({ $0 < 0 || $0 > 4096 }) ?? true {
                errors.append("\(p).simplification: must be a number between 0 and 4096 or an expression, found \(JSONWriter.string(lit))")
            }
        }
        if let a = o["attributes"] {
            guard let ao = a.objectValue else {
                errors.append("\(p).attributes: must be an object, found \(a.typeName)")
                return
            }
            unknown(ao, allowed: ["set", "allowed_output"], path: "\(p).attributes", errors: &errors)
            if let s = ao["set"] {
                if let so = s.objectValue {
                    for m in so { layer.set.append((m.key, Expression.parse(m.value, path: "\(p).attributes.set.\(m.key)", errors: &errors))) }
                } else {
                    errors.append("\(p).attributes.set: must be an object of attribute name to expression")
                }
            }
            if let ao = ao["allowed_output"] {
                if let list = ao.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
                    layer.allowedOutput = list.compactMap(\.stringValue)
                } else {
                    errors.append("\(p).attributes.allowed_output: must be an array of attribute names")
                }
            }
        }
    }

    private static func parseTiles(_ v: JSONValue, into layer: inout Layer, path p: String, errors: inout [String]) {
        guard let o = v.objectValue else {
            errors.append("\(p): must be an object, found \(v.typeName)")
            return
        }
        unknown(o, allowed: ["layer_size", "extent", "buffer_size", "limit", "order"], path: p, errors: &errors)
        if let s = o["layer_size"] {
            if let n = s.intValue, (1...2500).contains(n) { layer.layerSize = n } else { errors.append("\(p).layer_size: must be an integer between 1 and 2500 (KB), found \(JSONWriter.string(s))") }
        }
        if let e = o["extent"] {
            if let n = e.intValue, (256...65536).contains(n), n & (n - 1) == 0 { layer.extent = n } else { errors.append("\(p).extent: must be a power of two between 256 and 65536, found \(JSONWriter.string(e))") }
        }
        if let b = o["buffer_size"] {
            if let d = b.doubleValue, (0...100).contains(d) { layer.bufferSize = d } else { errors.append("\(p).buffer_size: must be a number between 0 and 100 (percent of the tile width), found \(JSONWriter.string(b))") }
        }
        if let order = o["order"] {
            if let attr = order.stringValue { layer.order = .call("get", [.literal(.string(attr))]) } else { layer.order = Expression.parse(order, path: "\(p).order", errors: &errors) }
        }
        if let l = o["limit"] {
            guard let rules = l.arrayValue else {
                errors.append("\(p).limit: must be an array of limit rules")
                return
            }
            for (i, rule) in rules.enumerated() {
                let rp = "\(p).limit[\(i)]"
                guard let r = rule.arrayValue, r.count == 4, let kind = r[0].stringValue,
                      kind == "lowest_where_in_distance" || kind == "highest_where_in_distance",
                      let count = r[2].intValue, count > 0, let attr = r[3].stringValue else {
                    errors.append("\(rp): must be [\"lowest_where_in_distance\" or \"highest_where_in_distance\", filter, count, attribute]")
                    continue
                }
                let filter = Expression.parse(r[1], path: "\(rp)[1]", errors: &errors)
                layer.limits.append(Limit(highest: kind.hasPrefix("highest"), filter: filter, count: count, attribute: attr))
            }
        }
    }
}
