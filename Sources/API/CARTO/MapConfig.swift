import Foundation
import GeoModel

/// A CARTO MapConfig (the body of `POST /api/v1/map`), checked and normalised.
///
/// Only the shape is checked here: types, ranges and sizes. The SQL and CartoCSS of each
/// layer are compiled later (`LayerGroup`), so their errors can name the layer. A config that
/// breaks a limit is refused as a whole, before anything is stored.
///
/// The normalised form (`json`) has a fixed member order and defaults filled in; its text is
/// what the layer group id is hashed from and what `state.db` keeps.
struct MapConfig: Sendable, Equatable {
    /// The most layers one config may hold (CARTO maps rarely have more than a handful).
    static let maxLayers = 32
    /// The longest SQL query of one layer, in bytes.
    static let maxSQLBytes = 16 << 10
    /// The longest CartoCSS of one layer, in bytes.
    static let maxCartoCSSBytes = 64 << 10
    /// The largest request body (or `config` parameter) read for a config.
    static let maxBodyBytes = 2 << 20

    /// One entry of `layers`.
    struct Layer: Sendable, Equatable {
        enum Kind: String, Sendable { case mapnik, plain }
        var kind: Kind
        /// `id` as given; nil when the config has none (the layer is then `layer{index}`).
        var id: String?
        var sql: String
        var cartocss: String
        var cartocssVersion: String
        /// `options.interactivity`: the columns exposed to UTFGrid / interactivity clients.
        var interactivity: [String]
        /// `options.attributes`: the id column and the columns `…/attributes/{fid}` returns.
        var attributesID: String?
        var attributeColumns: [String]
        var minzoom: Int?
        var maxzoom: Int?
        /// `options.color` of a `plain` layer.
        var color: String?
    }

    var version: String
    var minzoom: Int
    var maxzoom: Int
    /// `buffersize` per format (`png`, `mvt`), as given.
    var buffersize: [String: Int]
    var layers: [Layer]

    /// Parses a MapConfig; the error message is CARTO's when CARTO has one for the case.
    static func parse(_ json: JSONValue) throws(CartoRequestError) -> MapConfig {
        guard case .object(let o) = json else { throw .invalid("The MapConfig must be a JSON object") }
        let version = try string(o["version"], "version") ?? "1.0.0"
        guard version.count <= 16, version.allSatisfy({ $0.isNumber || $0 == "." }) else {
            throw .invalid("Invalid version '\(version)': use a version such as 1.3.0")
        }
        let minzoom = try zoom(o["minzoom"], "minzoom") ?? 0
        let maxzoom = try zoom(o["maxzoom"], "maxzoom") ?? 30
        guard minzoom <= maxzoom else { throw .invalid("minzoom (\(minzoom)) must not be greater than maxzoom (\(maxzoom))") }
        var buffersize: [String: Int] = [:]
        switch o["buffersize"] {
        case nil, .null?: break
        case .object(let b)?:
            for member in b {
                guard ["png", "mvt", "grid.json"].contains(member.key), let n = member.value.intValue, (0...512).contains(n) else {
                    throw .invalid("buffersize.\(member.key) must be a number of pixels from 0 to 512 for png, mvt or grid.json")
                }
                buffersize[member.key] = n
            }
        case let v?:
            guard let n = v.intValue, (0...512).contains(n) else { throw .invalid("buffersize must be a number of pixels from 0 to 512 or an object per format") }
            buffersize = ["png": n, "mvt": n]
        }
        guard case .array(let list)? = o["layers"] else { throw .invalid("Missing layers array from layergroup config") }
        guard !list.isEmpty else { throw .invalid("Missing layers array from layergroup config") }
        guard list.count <= maxLayers else {
            throw .invalid("The MapConfig has \(list.count) layers; at most \(maxLayers) are allowed")
        }
        var layers: [Layer] = []
        var ids = Set<String>()
        for (i, value) in list.enumerated() {
            let layer = try Self.layer(value, index: i)
            if let id = layer.id {
                guard ids.insert(id).inserted else { throw .invalid("Layer \(i): the layer id '\(id)' is used twice") }
            }
            layers.append(layer)
        }
        return MapConfig(version: version, minzoom: minzoom, maxzoom: maxzoom, buffersize: buffersize, layers: layers)
    }

    private static func layer(_ value: JSONValue, index i: Int) throws(CartoRequestError) -> Layer {
        guard case .object(let l) = value else { throw .invalid("Layer \(i) must be a JSON object") }
        let type = (try string(l["type"], "layer \(i) type") ?? "mapnik").lowercased()
        let kind: Layer.Kind
        switch type {
        case "mapnik", "cartodb": kind = .mapnik
        case "plain": kind = .plain
        default: throw .invalid("Unsupported layer type: \(type) (layer \(i)); tiledrop serves mapnik, cartodb and plain layers")
        }
        let id = try string(l["id"], "layer \(i) id")
        if let id {
            guard !id.isEmpty, id.utf8.count <= 64, id.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "_-".unicodeScalars.contains($0)) }) else {
                throw .invalid("Layer \(i): id '\(id.prefix(64))' must be 1 to 64 letters, digits, '_' or '-'")
            }
        }
        let options: JSONObject
        switch l["options"] {
        case .object(let o)?: options = o
        case nil, .null?: options = JSONObject()
        default: throw .invalid("Layer \(i): options must be a JSON object")
        }
        var layer = Layer(kind: kind, id: id, sql: "", cartocss: "", cartocssVersion: "2.3.0", interactivity: [], attributesID: nil,
                          attributeColumns: [], minzoom: try zoom(l["minzoom"] ?? options["minzoom"], "layer \(i) minzoom"),
                          maxzoom: try zoom(l["maxzoom"] ?? options["maxzoom"], "layer \(i) maxzoom"), color: nil)
        if kind == .plain {
            layer.color = try string(options["color"], "layer \(i) options.color") ?? "#ffffff"
            guard layer.color!.utf8.count <= 64 else { throw .invalid("Layer \(i): options.color is too long") }
            return layer
        }
        guard let sql = try string(options["sql"], "layer \(i) options.sql"), !sql.allSatisfy(\.isWhitespace) else {
            throw .invalid("Missing sql for layer \(i) options")
        }
        guard sql.utf8.count <= maxSQLBytes else {
            throw .invalid("Layer \(i): the SQL is \(sql.utf8.count) bytes; at most \(maxSQLBytes) are allowed")
        }
        layer.sql = sql
        guard let css = try string(options["cartocss"], "layer \(i) options.cartocss"), !css.allSatisfy(\.isWhitespace) else {
            throw .invalid("Missing cartocss for layer \(i) options")
        }
        guard css.utf8.count <= maxCartoCSSBytes else {
            throw .invalid("Layer \(i): the CartoCSS is \(css.utf8.count) bytes; at most \(maxCartoCSSBytes) are allowed")
        }
        layer.cartocss = css
        layer.cartocssVersion = try string(options["cartocss_version"], "layer \(i) options.cartocss_version") ?? "2.3.0"
        guard layer.cartocssVersion.count <= 16 else { throw .invalid("Layer \(i): options.cartocss_version is too long") }
        layer.interactivity = try columns(options["interactivity"], "layer \(i) options.interactivity")
        switch options["attributes"] {
        case nil, .null?: break
        case .object(let a)?:
            guard let idColumn = try string(a["id"], "layer \(i) options.attributes.id"), !idColumn.isEmpty else {
                throw .invalid("Layer \(i): options.attributes needs an id column")
            }
            layer.attributesID = idColumn
            layer.attributeColumns = try columns(a["columns"], "layer \(i) options.attributes.columns")
        default: throw .invalid("Layer \(i): options.attributes must be an object with id and columns")
        }
        return layer
    }

    // MARK: members

    private static func string(_ v: JSONValue?, _ what: String) throws(CartoRequestError) -> String? {
        switch v {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let v?: throw .invalid("\(what) must be a string, not \(v.typeName)")
        }
    }

    /// A zoom level 0–30, given as a number or a numeric string (the seed types it as string).
    private static func zoom(_ v: JSONValue?, _ what: String) throws(CartoRequestError) -> Int? {
        let n: Int?
        switch v {
        case nil, .null?: return nil
        case .string(let s)?: n = Int(s)
        case let v?: n = v.intValue
        }
        guard let n, (0...30).contains(n) else { throw .invalid("\(what) must be a zoom level from 0 to 30") }
        return n
    }

    /// Column names as an array of strings or one comma-separated string; at most 64.
    private static func columns(_ v: JSONValue?, _ what: String) throws(CartoRequestError) -> [String] {
        var names: [String]
        switch v {
        case nil, .null?: return []
        case .string(let s)?: names = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        case .array(let a)?:
            names = []
            for item in a {
                guard case .string(let s) = item else { throw .invalid("\(what) must list column names as strings") }
                names.append(s)
            }
        case let v?: throw .invalid("\(what) must be a string or an array of column names, not \(v.typeName)")
        }
        guard names.count <= 64, names.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 128 }) else {
            throw .invalid("\(what) must list at most 64 column names of 1 to 128 bytes")
        }
        return names
    }

    // MARK: normalised form

    /// The config as stored and hashed: fixed member order, defaults filled in.
    var json: JSONValue {
        var o = JSONObject()
        o["version"] = .string(version)
        o["minzoom"] = .int(Int64(minzoom))
        o["maxzoom"] = .int(Int64(maxzoom))
        if !buffersize.isEmpty {
            var b = JSONObject()
            for key in buffersize.keys.sorted() { b[key] = .int(Int64(buffersize[key]!)) }
            o["buffersize"] = .object(b)
        }
        o["layers"] = .array(layers.map(\.json))
        return .object(o)
    }
}

extension MapConfig.Layer {
    /// The layer's name in MVT tiles and metadata: its `id`, or `layer{index}`.
    func name(index: Int) -> String { id ?? "layer\(index)" }

    var json: JSONValue {
        var l = JSONObject()
        l["type"] = .string(kind.rawValue)
        if let id { l["id"] = .string(id) }
        if let minzoom { l["minzoom"] = .int(Int64(minzoom)) }
        if let maxzoom { l["maxzoom"] = .int(Int64(maxzoom)) }
        var o = JSONObject()
        if let color { o["color"] = .string(color) }
        if kind == .mapnik {
            o["sql"] = .string(sql)
            o["cartocss"] = .string(cartocss)
            o["cartocss_version"] = .string(cartocssVersion)
            if !interactivity.isEmpty { o["interactivity"] = .array(interactivity.map(JSONValue.string)) }
            if let attributesID {
                var a = JSONObject()
                a["id"] = .string(attributesID)
                a["columns"] = .array(attributeColumns.map(JSONValue.string))
                o["attributes"] = .object(a)
            }
        }
        l["options"] = .object(o)
        return .object(l)
    }

    /// Whether the layer draws at zoom `z` (its own `minzoom`/`maxzoom`).
    func shows(zoom z: Int) -> Bool { z >= (minzoom ?? 0) && z <= (maxzoom ?? 30) }
}
