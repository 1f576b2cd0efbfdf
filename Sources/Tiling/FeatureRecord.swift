import GeoModel

/// A source feature's geometry projected to normalised Web Mercator, split by MVT type.
enum ProjectedGeometry: Sendable {
    case points([WorldPoint])
    case lines([[WorldPoint]])
    case polygons([[[WorldPoint]]])

    var type: MVTGeometryType {
        switch self {
        case .points: .point
        case .lines: .lineString
        case .polygons: .polygon
        }
    }

    var typeName: String {
        switch self {
        case .points: "Point"
        case .lines: "LineString"
        case .polygons: "Polygon"
        }
    }
}

/// What the recipe makes of one feature at one zoom: whether it is kept, its id, output
/// attributes, order key and the values the `limit` rules rank by.
///
/// A class (immutable, shared) because every tile a feature lands in refers to it: copying
/// a struct of arrays there cost more retain/release traffic than the tiling itself.
final class FeatureOutput: Sendable {
    let kept: Bool
    let id: UInt64?
    let properties: [(key: String, value: MVTValue)]
    /// The attributes as ids into the run's `AttributeTable` (static outputs only).
    let attributes: [AttributeRef]?
    let order: Double?
    let limitKeys: [Double?]

    init(kept: Bool, id: UInt64?, properties: [(key: String, value: MVTValue)], attributes: [AttributeRef]? = nil,
         order: Double?, limitKeys: [Double?]) {
        self.kept = kept
        self.id = id
        self.properties = properties
        self.attributes = attributes
        self.order = order
        self.limitKeys = limitKeys
    }

    /// The same output with its attributes interned (and the string form dropped).
    func interned(_ attributes: [AttributeRef]) -> FeatureOutput {
        FeatureOutput(kept: kept, id: id, properties: [], attributes: attributes, order: order, limitKeys: limitKeys)
    }
}

/// One tileable feature: projected geometry plus either a precomputed output (when no recipe
/// expression depends on the zoom) or the source properties to evaluate per zoom.
struct FeatureRecord: Sendable {
    var geometry: ProjectedGeometry
    var minX: Double, minY: Double, maxX: Double, maxY: Double
    var sourceID: JSONValue?
    var properties: JSONObject?
    var staticOutput: FeatureOutput?

    init?(geometry: ProjectedGeometry) {
        self.geometry = geometry
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        func add(_ p: WorldPoint) {
            minX = min(minX, p.x); maxX = max(maxX, p.x)
            minY = min(minY, p.y); maxY = max(maxY, p.y)
        }
        switch geometry {
        case .points(let ps): ps.forEach(add)
        case .lines(let ls): for l in ls { l.forEach(add) }
        case .polygons(let polys): for poly in polys { poly.first?.forEach(add) }
        }
        guard minX <= maxX else { return nil }
        (self.minX, self.minY, self.maxX, self.maxY) = (minX, minY, maxX, maxY)
    }

    /// Projects a GeoJSON geometry, grouping its parts by MVT type (a GeometryCollection may
    /// yield up to three records). Invalid positions make the caller skip the feature.
    static func project(_ g: Geometry) -> (points: [WorldPoint], lines: [[WorldPoint]], polygons: [[[WorldPoint]]], valid: Bool) {
        var points: [WorldPoint] = [], lines: [[WorldPoint]] = [], polygons: [[[WorldPoint]]] = []
        var valid = true
        func p(_ pos: Position) -> WorldPoint {
            if !pos.lon.isFinite || !pos.lat.isFinite || abs(pos.lon) > 360 || abs(pos.lat) > 90 { valid = false }
            let (x, y) = WebMercator.project(lon: pos.lon, lat: pos.lat)
            return WorldPoint(x: x, y: y)
        }
        func ring(_ r: [Position]) -> [WorldPoint] { r.map(p) }
        func walk(_ g: Geometry) {
            switch g {
            case .point(let pos): points.append(p(pos))
            case .multiPoint(let ps): points += ps.map(p)
            case .lineString(let ps): if ps.count >= 2 { lines.append(ring(ps)) }
            case .multiLineString(let ls): for l in ls where l.count >= 2 { lines.append(ring(l)) }
            case .polygon(let rs): if let first = rs.first, first.count >= 4 { polygons.append(rs.filter { $0.count >= 4 }.map(ring)) }
            case .multiPolygon(let ps): for rs in ps { if let first = rs.first, first.count >= 4 { polygons.append(rs.filter { $0.count >= 4 }.map(ring)) } }
            case .geometryCollection(let gs): gs.forEach(walk)
            }
        }
        walk(g)
        return (points, lines, polygons, valid)
    }
}
