import GeoModel
@testable import Formats

/// Compares GeoJSON by meaning, not text: numbers by value (ints equal doubles), object
/// members in any order, and a GeometryCollection whose members share one simple type equal
/// to the corresponding Multi* (our documented choice for homogeneous KML MultiGeometry).
enum SemanticJSON {
    static func equal(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?): return equal(x, y)
        default: return false
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue {
            return x == y || abs(x - y) <= 1e-9 * max(1, abs(x), abs(y))
        }
        switch (a, b) {
        case let (.array(x), .array(y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.allSatisfy { m in y[m.key].map { equal(m.value, $0) } ?? false }
        default:
            return a == b
        }
    }

    /// A geometry value in canonical form: homogeneous GeometryCollections become Multi*.
    static func canonicalGeometry(_ g: JSONValue?) -> JSONValue? {
        guard let g, g != .null else { return nil }
        guard g["type"]?.stringValue == "GeometryCollection", let parts = g["geometries"]?.arrayValue, parts.count > 1 else { return g }
        let types = Set(parts.compactMap { $0["type"]?.stringValue })
        guard types.count == 1, let t = types.first, ["Point", "LineString", "Polygon"].contains(t) else { return g }
        return ["type": .string("Multi" + t), "coordinates": .array(parts.compactMap { $0["coordinates"] })]
    }

    static func geometryEqual(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        equal(canonicalGeometry(a), canonicalGeometry(b))
    }
}
