import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Decodes one GeoJSON Feature (RFC 7946 §3.2) straight from its bytes, the fast way.
///
/// The generic path parses a feature into a `JSONValue` tree and then walks it
/// (`GeoJSONCoding.feature(from:)`); for a large file most of that tree is coordinates,
/// built and freed once per number. This decoder reads the feature's members itself and
/// decodes `geometry.coordinates` directly into `Position` arrays; only `properties` and
/// `id` go through `JSONParser` (they must keep any JSON).
///
/// It is a fast path only: it accepts exactly the well-formed, valid features for which the
/// generic path would produce the same `Feature` *without notes*, and returns nil for
/// anything else — malformed JSON, duplicate members, `bbox`, GeometryCollections, empty or
/// short coordinate arrays, out-of-range positions, unclosed rings, extra position values.
/// The reader then re-parses those generically, which yields the precise error or warning,
/// so fidelity never depends on this code.
struct GeoJSONFeatureDecoder {
    private var p: JSONParser

    private init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        p = JSONParser(bytes: bytes, maxDepth: maxDepth)
    }

    /// The feature object at the start of `bytes` and the offset just past its closing brace,
    /// or nil when the generic path must decide. `bytes` may continue after the feature; a
    /// feature cut off by the end of `bytes` is declined (nil), never misread.
    static func decode(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) -> (Feature, end: Int)? {
        var d = GeoJSONFeatureDecoder(bytes, maxDepth: maxDepth)
        guard let f = d.feature() else { return nil }
        return (f, d.p.pos)
    }

    // MARK: Members

    private mutating func feature() -> Feature? {
        var seen = 0
        var isFeature = false
        var feature = Feature(geometry: nil)
        let ok = members { (d, key) -> Bool in
            let bit: Int
            switch key {
            case "type":
                bit = 1
                guard d.stringEquals("Feature") else { return false }
                isFeature = true
            case "geometry":
                bit = 2
                if d.literalNull() { break }
                guard let g = d.geometry() else { return false }
                feature.geometry = g
            case "properties":
                bit = 4
                guard let v = try? d.p.parseValue(depth: 1) else { return false }
                switch v {
                case .null: break
                case .object(let o): feature.properties = o
                default: return false
                }
            case "id":
                bit = 8
                guard let v = try? d.p.parseValue(depth: 1), v.isNumber || v.stringValue != nil else { return false }
                feature.id = v
            case "bbox":
                return false
            case "tiledrop_id":  // Feature.sourceIDMember
                bit = 16
                guard let v = try? d.p.parseValue(depth: 1), let n = GeoJSONCoding.sourceID(v) else { return false }
                feature.sourceID = n
            default:
                // A foreign member: ignored, but it must be valid JSON.
                return (try? d.p.parseValue(depth: 1)) != nil
            }
            if seen & bit != 0 { return false }  // duplicate member: let the generic path decide
            seen |= bit
            return true
        }
        // Without a "geometry" member the generic path adds a note.
        guard ok, isFeature, seen & 2 != 0 else { return nil }
        return feature
    }

    private mutating func geometry() -> Geometry? {
        var type: GeometryKind?
        var coordinates: Coordinates?
        var seen = 0
        let ok = members { (d, key) -> Bool in
            let bit: Int
            switch key {
            case "type":
                bit = 1
                guard let k = d.geometryKind() else { return false }
                type = k
            case "coordinates":
                bit = 2
                guard let c = d.coordinates() else { return false }
                coordinates = c
            case "bbox", "geometries":
                return false
            default:
                return (try? d.p.parseValue(depth: 2)) != nil
            }
            if seen & bit != 0 { return false }
            seen |= bit
            return true
        }
        guard ok, let type, let coordinates else { return nil }
        switch (type, coordinates) {
        case (.point, .position(let p)): return .point(p)
        case (.multiPoint, .list(let ps)): return .multiPoint(ps)
        case (.lineString, .list(let ps)): return ps.count >= 2 ? .lineString(ps) : nil
        case (.multiLineString, .lists(let ls)): return ls.allSatisfy { $0.count >= 2 } ? .multiLineString(ls) : nil
        case (.polygon, .lists(let rings)): return Self.validRings(rings) ? .polygon(rings) : nil
        case (.multiPolygon, .polygons(let polys)): return polys.allSatisfy(Self.validRings) ? .multiPolygon(polys) : nil
        default: return nil
        }
    }

    /// RFC 7946 §3.1.6: at least 4 positions, closed (unclosed rings are the generic path's to repair).
    private static func validRings(_ rings: [[Position]]) -> Bool {
        rings.allSatisfy { r in r.count >= 4 && r[0].lon == r[r.count - 1].lon && r[0].lat == r[r.count - 1].lat }
    }

    /// Calls `body` for each member of the object at the cursor with its (escape-free) key;
    /// `body` must consume the value. False when anything is not as expected.
    private mutating func members(_ body: (inout GeoJSONFeatureDecoder, StaticKey) -> Bool) -> Bool {
        p.skipWhitespace()
        guard byte == UInt8(ascii: "{") else { return false }
        p.pos += 1
        p.skipWhitespace()
        if byte == UInt8(ascii: "}") {
            p.pos += 1
            return true
        }
        while true {
            p.skipWhitespace()
            guard let key = rawString() else { return false }
            p.skipWhitespace()
            guard byte == UInt8(ascii: ":") else { return false }
            p.pos += 1
            p.skipWhitespace()
            guard body(&self, StaticKey(bytes: key)) else { return false }
            p.skipWhitespace()
            switch byte {
            case UInt8(ascii: ","): p.pos += 1
            case UInt8(ascii: "}"): p.pos += 1; return true
            default: return false
            }
        }
    }

    // MARK: Scalars

    /// The byte at the cursor, 0 at the end.
    private var byte: UInt8 { p.pos < p.bytes.count ? p.bytes[p.pos] : 0 }

    /// An ASCII string without escapes at the cursor (keys, type names); nil otherwise.
    private mutating func rawString() -> UnsafeRawBufferPointer? {
        guard byte == UInt8(ascii: "\"") else { return nil }
        let start = p.pos + 1
        var i = start
        let n = p.bytes.count
        while i < n {
            let b = p.bytes[i]
            if b == UInt8(ascii: "\"") {
                p.pos = i + 1
                return UnsafeRawBufferPointer(rebasing: p.bytes[start..<i])
            }
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { return nil }
            i += 1
        }
        return nil
    }

    private mutating func stringEquals(_ s: StaticString) -> Bool {
        guard let raw = rawString() else { return false }
        return StaticKey(bytes: raw) == s
    }

    private mutating func literalNull() -> Bool {
        let b = p.bytes
        guard p.pos + 4 <= b.count, b[p.pos] == UInt8(ascii: "n"), b[p.pos + 1] == UInt8(ascii: "u"),
              b[p.pos + 2] == UInt8(ascii: "l"), b[p.pos + 3] == UInt8(ascii: "l") else { return false }
        p.pos += 4
        return true
    }

    private enum GeometryKind { case point, multiPoint, lineString, multiLineString, polygon, multiPolygon }

    private mutating func geometryKind() -> GeometryKind? {
        guard let raw = rawString() else { return nil }
        let k = StaticKey(bytes: raw)
        if k == "Point" { return .point }
        if k == "LineString" { return .lineString }
        if k == "Polygon" { return .polygon }
        if k == "MultiPoint" { return .multiPoint }
        if k == "MultiLineString" { return .multiLineString }
        if k == "MultiPolygon" { return .multiPolygon }
        return nil
    }

    // MARK: Coordinates

    /// Coordinates by nesting depth; the geometry type picks which one it needs.
    private enum Coordinates {
        case position(Position)
        case list([Position])
        case lists([[Position]])
        case polygons([[[Position]]])
    }

    /// Reads `coordinates`, finding its depth from the leading brackets (empty arrays → nil).
    private mutating func coordinates() -> Coordinates? {
        var i = p.pos
        var depth = 0
        let b = p.bytes
        scan: while i < b.count {
            switch b[i] {
            case UInt8(ascii: "["): depth += 1
            case 0x20, 0x0A, 0x0D, 0x09: break
            default: break scan
            }
            i += 1
        }
        switch depth {
        case 1: return position().map { .position($0) }
        case 2: return positions().map { .list($0) }
        case 3: return array { (d: inout GeoJSONFeatureDecoder) in d.positions() }.map { .lists($0) }
        case 4: return array { (d: inout GeoJSONFeatureDecoder) in d.array { (d: inout GeoJSONFeatureDecoder) in d.positions() } }.map { .polygons($0) }
        default: return nil
        }
    }

    private mutating func positions() -> [Position]? {
        array(reserving: 16) { (d: inout GeoJSONFeatureDecoder) in d.position() }
    }

    /// A non-empty JSON array whose elements `element` reads.
    private mutating func array<T>(reserving capacity: Int = 1, _ element: (inout GeoJSONFeatureDecoder) -> T?) -> [T]? {
        guard byte == UInt8(ascii: "[") else { return nil }
        p.pos += 1
        var out: [T] = []
        out.reserveCapacity(capacity)
        while true {
            p.skipWhitespace()
            guard let e = element(&self) else { return nil }
            out.append(e)
            p.skipWhitespace()
            switch byte {
            case UInt8(ascii: ","): p.pos += 1
            case UInt8(ascii: "]"): p.pos += 1; return out
            default: return nil
            }
        }
    }

    /// `[lon, lat]` or `[lon, lat, alt]` within range (RFC 7946 §3.1.1, `GeoJSONCoding.check`).
    private mutating func position() -> Position? {
        guard byte == UInt8(ascii: "[") else { return nil }
        p.pos += 1
        var values: (Double, Double, Double) = (0, 0, 0)
        var count = 0
        while true {
            p.skipWhitespace()
            guard count < 3, byte == UInt8(ascii: "-") || byte &- 48 < 10, let v = try? p.parseNumber().doubleValue else { return nil }
            switch count {
            case 0: values.0 = v
            case 1: values.1 = v
            default: values.2 = v
            }
            count += 1
            p.skipWhitespace()
            switch byte {
            case UInt8(ascii: ","): p.pos += 1
            case UInt8(ascii: "]"):
                p.pos += 1
                guard count >= 2, abs(values.1) <= 90, abs(values.0) <= GeoJSONCoding.maxLongitude else { return nil }
                return Position(lon: values.0, lat: values.1, alt: count == 3 ? values.2 : nil)
            default: return nil
            }
        }
    }
}

/// Key bytes compared against literals without creating a String.
private struct StaticKey {
    let bytes: UnsafeRawBufferPointer

    static func == (k: StaticKey, s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard k.bytes.count == n else { return false }
        return n == 0 || memcmp(k.bytes.baseAddress!, s.utf8Start, n) == 0
    }

    static func ~= (s: StaticString, k: StaticKey) -> Bool { k == s }
}
