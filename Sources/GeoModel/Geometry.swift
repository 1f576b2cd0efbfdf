/// A GeoJSON geometry (RFC 7946 §3.1).
///
/// Rings of a polygon are stored as written: the first ring is the exterior, the others
/// holes; each ring repeats its first position at the end once it has been validated.
public indirect enum Geometry: Sendable, Hashable {
    case point(Position)
    case multiPoint([Position])
    case lineString([Position])
    case multiLineString([[Position]])
    case polygon([[Position]])
    case multiPolygon([[[Position]]])
    case geometryCollection([Geometry])

    /// The RFC 7946 `type` member for this geometry.
    public var typeName: String {
        switch self {
        case .point: "Point"
        case .multiPoint: "MultiPoint"
        case .lineString: "LineString"
        case .multiLineString: "MultiLineString"
        case .polygon: "Polygon"
        case .multiPolygon: "MultiPolygon"
        case .geometryCollection: "GeometryCollection"
        }
    }

    /// Calls `body` for every position, in document order.
    public func forEachPosition(_ body: (Position) -> Void) {
        switch self {
        case .point(let p): body(p)
        case .multiPoint(let ps), .lineString(let ps): ps.forEach(body)
        case .multiLineString(let lines), .polygon(let lines): for l in lines { l.forEach(body) }
        case .multiPolygon(let polys): for poly in polys { for r in poly { r.forEach(body) } }
        case .geometryCollection(let gs): for g in gs { g.forEachPosition(body) }
        }
    }

    /// The smallest box holding every position, or nil for an empty geometry.
    public var boundingBox: BoundingBox? {
        var box = BoundingBox.empty
        forEachPosition { box.extend($0) }
        return box.isEmpty ? nil : box
    }
}
