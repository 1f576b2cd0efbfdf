import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Collects what a layer's output attributes look like, for MBTiles `vector_layers` and
/// mapbox-geostats `tilestats` (MBTiles 1.3 "Vector tileset metadata").
struct LayerSchema: Sendable {
    struct Attribute: Sendable {
        var types: Set<String> = []
        var values: Set<MVTValue> = []
        var min = Double.infinity
        var max = -Double.infinity
    }

    static let valueLimit = 100

    var layer: Recipe.Layer
    var count = 0
    var geometryCounts = [0, 0, 0, 0]
    var attributes: [String: Attribute] = [:]
    var order: [String] = []

    init(layer: Recipe.Layer) { self.layer = layer }

    mutating func add(_ props: [(key: String, value: MVTValue)], type: MVTGeometryType) {
        count += 1
        geometryCounts[Int(type.rawValue)] += 1
        for (k, v) in props {
            if attributes[k] == nil { order.append(k) }
            var a = attributes[k] ?? Attribute()
            a.types.insert(v.fieldType)
            if a.values.count < LayerSchema.valueLimit { a.values.insert(v) }
            if v.fieldType == "Number", let d = v.json.doubleValue {
                a.min = Swift.min(a.min, d)
                a.max = Swift.max(a.max, d)
            }
            attributes[k] = a
        }
    }

    var fields: JSONValue {
        var o = JSONObject()
        for k in order { o[k] = .string(attributes[k]!.types.count == 1 ? attributes[k]!.types.first! : "String") }
        return .object(o)
    }

    var vectorLayer: JSONValue {
        ["id": .string(layer.name), "description": "", "minzoom": .int(Int64(layer.minzoom)), "maxzoom": .int(Int64(layer.maxzoom)), "fields": fields]
    }

    var tilestats: JSONValue {
        let names = ["Unknown", "Point", "LineString", "Polygon"]
        let dominant = (1...3).max { geometryCounts[$0] < geometryCounts[$1] } ?? 1
        var attrs: [JSONValue] = []
        for k in order.prefix(1000) {
            let a = attributes[k]!
            let type = a.types.count == 1 ? a.types.first!.lowercased() : "mixed"
            var o = JSONObject()
            o["attribute"] = .string(k)
            o["count"] = .int(Int64(a.values.count))
            o["type"] = .string(type)
            o["values"] = .array(a.values.map(\.json).sorted { JSONWriter.string($0) < JSONWriter.string($1) })
            if a.min <= a.max {
                o["min"] = Expression.number(a.min)
                o["max"] = Expression.number(a.max)
            }
            attrs.append(.object(o))
        }
        return ["layer": .string(layer.name), "count": .int(Int64(count)), "geometry": .string(names[dominant]),
                "attributeCount": .int(Int64(order.count)), "attributes": .array(attrs)]
    }
}

extension TilesetMetadata {
    static func make(bounds raw: BoundingBox, minzoom: Int, maxzoom: Int, schemas: [LayerSchema]) -> TilesetMetadata {
        var b = raw.isEmpty ? BoundingBox.world : raw
        b = BoundingBox(west: Swift.max(-180, b.west), south: Swift.max(-WebMercator.maxLatitude, b.south),
                        east: Swift.min(180, b.east), north: Swift.min(WebMercator.maxLatitude, b.north))
        let center = Position(lon: (b.west + b.east) / 2, lat: (b.south + b.north) / 2)
        let nw = WebMercator.project(lon: b.west, lat: b.north), se = WebMercator.project(lon: b.east, lat: b.south)
        let span = Swift.max(se.x - nw.x, se.y - nw.y, 1e-9)
        let fit = Int(log2(1 / span).rounded(.down))
        let centerZoom = Swift.max(minzoom, Swift.min(maxzoom, fit))
        let tilestats: JSONValue = ["layerCount": .int(Int64(schemas.count)), "layers": .array(schemas.map(\.tilestats))]
        return TilesetMetadata(bounds: b, center: center, centerZoom: centerZoom, minzoom: minzoom, maxzoom: maxzoom,
                               vectorLayers: .array(schemas.map(\.vectorLayer)), tilestats: tilestats)
    }

    /// The MBTiles `json` metadata row.
    public var json: JSONValue { ["vector_layers": vectorLayers, "tilestats": tilestats] }
}
