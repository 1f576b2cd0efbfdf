import GeoModel

/// Converts between GeoModel values and GeoJSON (RFC 7946), validating on the way in.
///
/// Decoding is strict about what would make a feature wrong (non-numeric or out-of-range
/// coordinates, short lines and rings, wrong nesting: `FormatError.invalidFeature`) and
/// repairs what is unambiguous (an unclosed ring is closed, a fourth coordinate value is
/// dropped), reporting each repair in `notes` so readers can warn about it.
public enum GeoJSONCoding {
    /// Longitudes are accepted up to ±360 so data crossing the antimeridian as written by
    /// many tools (e.g. 170…190) passes through untouched; latitudes must be within ±90.
    static let maxLongitude = 360.0

    // MARK: Encoding

    /// Appends `f` as one compact GeoJSON Feature object.
    public static func encode(_ f: Feature, into w: inout JSONWriter) {
        w.append(#"{"type":"Feature""#)
        if let sourceID = f.sourceID {
            w.append(#","tiledrop_id":"#)
            w.writeInt(sourceID)
        }
        if let id = f.id {
            w.append(#","id":"#)
            w.write(id)
        }
        w.append(#","properties":"#)
        writeProperties(f.properties, into: &w)
        w.append(#","geometry":"#)
        if let g = f.geometry { encode(g, into: &w) } else { w.append("null") }
        w.bytes.append(UInt8(ascii: "}"))
    }

    /// Appends `properties` as a JSON object: `JSONWriter`'s output, except that top-level
    /// doubles go through `DoubleFormatter` (same text, without a String per number).
    static func writeProperties(_ properties: JSONObject, into w: inout JSONWriter) {
        w.bytes.append(UInt8(ascii: "{"))
        for (i, m) in properties.members.enumerated() {
            if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
            w.writeString(m.key)
            w.bytes.append(UInt8(ascii: ":"))
            if case .double(let d) = m.value { DoubleFormatter.write(d, into: &w) } else { w.write(m.value) }
        }
        w.bytes.append(UInt8(ascii: "}"))
    }

    /// Appends `g` as a GeoJSON geometry object.
    public static func encode(_ g: Geometry, into w: inout JSONWriter) {
        w.append(#"{"type":""#)
        w.bytes.append(contentsOf: g.typeName.utf8)
        if case .geometryCollection(let parts) = g {
            w.append(#"","geometries":["#)
            for (i, p) in parts.enumerated() {
                if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
                encode(p, into: &w)
            }
            w.append("]}")
            return
        }
        w.append(#"","coordinates":"#)
        switch g {
        case .point(let p): write(p, &w)
        case .multiPoint(let ps), .lineString(let ps): write(ps, &w)
        case .multiLineString(let ls), .polygon(let ls): write(ls, &w)
        case .multiPolygon(let polys):
            w.bytes.append(UInt8(ascii: "["))
            for (i, poly) in polys.enumerated() {
                if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
                write(poly, &w)
            }
            w.bytes.append(UInt8(ascii: "]"))
        case .geometryCollection: break
        }
        w.bytes.append(UInt8(ascii: "}"))
    }

    private static func write(_ p: Position, _ w: inout JSONWriter) {
        w.bytes.append(UInt8(ascii: "["))
        DoubleFormatter.write(p.lon, into: &w)
        w.bytes.append(UInt8(ascii: ","))
        DoubleFormatter.write(p.lat, into: &w)
        if let alt = p.alt {
            w.bytes.append(UInt8(ascii: ","))
            DoubleFormatter.write(alt, into: &w)
        }
        w.bytes.append(UInt8(ascii: "]"))
    }

    private static func write(_ ps: [Position], _ w: inout JSONWriter) {
        w.bytes.append(UInt8(ascii: "["))
        for (i, p) in ps.enumerated() {
            if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
            write(p, &w)
        }
        w.bytes.append(UInt8(ascii: "]"))
    }

    private static func write(_ lines: [[Position]], _ w: inout JSONWriter) {
        w.bytes.append(UInt8(ascii: "["))
        for (i, l) in lines.enumerated() {
            if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
            write(l, &w)
        }
        w.bytes.append(UInt8(ascii: "]"))
    }

    /// The feature as a `JSONValue` tree (for tests and callers that post-process JSON).
    public static func jsonValue(_ f: Feature) -> JSONValue {
        var w = JSONWriter()
        encode(f, into: &w)
        // Our own output is always valid JSON; a failure here would be a writer bug.
        return (try? JSONParser.parse(w.bytes)) ?? .null
    }

    /// The geometry as a `JSONValue` tree.
    public static func jsonValue(_ g: Geometry) -> JSONValue {
        var w = JSONWriter()
        encode(g, into: &w)
        return (try? JSONParser.parse(w.bytes)) ?? .null
    }

    // MARK: Decoding

    /// Decodes a GeoJSON Feature object; throws `invalidFeature` when it is not one.
    public static func feature(from v: JSONValue) throws(FormatError) -> Feature {
        var notes: [String] = []
        return try feature(from: v, notes: &notes)
    }

    /// Decodes a GeoJSON geometry object; throws `invalidFeature` when it is not a valid one.
    public static func geometry(from v: JSONValue) throws(FormatError) -> Geometry {
        var notes: [String] = []
        return try geometry(from: v, depth: 0, notes: &notes)
    }

    /// Decodes a Feature, collecting repairs and dropped members in `notes`.
    static func feature(from v: JSONValue, notes: inout [String]) throws(FormatError) -> Feature {
        guard case .object(let o) = v else { throw invalid("expected a Feature object, found \(v.typeName)") }
        guard let type = o["type"]?.stringValue else { throw invalid("Feature has no \"type\" member") }
        guard type == "Feature" else { throw invalid("expected \"type\": \"Feature\", found \"\(type)\"") }
        var feature = Feature(geometry: nil)
        switch o["geometry"] {
        case nil: notes.append("Feature has no \"geometry\" member; treated as null")
        case .null?: break
        case let g?: feature.geometry = try geometry(from: g, depth: 0, notes: &notes)
        }
        switch o["properties"] {
        case nil, .null?: break
        case .object(let p)?: feature.properties = p
        case let p?: throw invalid("\"properties\" must be an object or null, found \(p.typeName)")
        }
        switch o["id"] {
        case nil: break
        case let id? where id.isNumber || id.stringValue != nil: feature.id = id
        case let id?: notes.append("\"id\" must be a string or number, found \(id.typeName); dropped")
        }
        if let bbox = o["bbox"] { checkBBox(bbox, notes: &notes) }
        feature.sourceID = sourceID(o[Feature.sourceIDMember])
        return feature
    }

    /// A `tiledrop_id` member's value as a source id: a whole number from 1 to 2^53; anything
    /// else is not one of ours and is ignored like any other foreign member.
    static func sourceID(_ v: JSONValue?) -> Int64? {
        guard let n = v?.intValue, n >= 1, n <= 1 << 53 else { return nil }
        return Int64(n)
    }

    static func geometry(from v: JSONValue, depth: Int, notes: inout [String]) throws(FormatError) -> Geometry {
        guard case .object(let o) = v else { throw invalid("expected a geometry object, found \(v.typeName)") }
        guard let type = o["type"]?.stringValue else { throw invalid("geometry has no \"type\" member") }
        if let bbox = o["bbox"] { checkBBox(bbox, notes: &notes) }
        if type == "GeometryCollection" {
            guard case .array(let items)? = o["geometries"] else { throw invalid("GeometryCollection needs a \"geometries\" array") }
            if depth > 0 { notes.append("nested GeometryCollection (RFC 7946 §3.1.8 advises against it); kept") }
            guard depth < 16 else { throw invalid("GeometryCollections nested more than 16 deep") }
            var parts: [Geometry] = []
            parts.reserveCapacity(items.count)
            for item in items { parts.append(try geometry(from: item, depth: depth + 1, notes: &notes)) }
            return .geometryCollection(parts)
        }
        guard let coords = o["coordinates"] else {
            if ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"].contains(type) {
                throw invalid("\(type) has no \"coordinates\" member")
            }
            throw invalid("unknown geometry type \"\(type)\" (RFC 7946 types are case-sensitive, e.g. \"Point\")")
        }
        switch type {
        case "Point": return .point(try position(coords, notes: &notes))
        case "MultiPoint": return .multiPoint(try positions(coords, notes: &notes))
        case "LineString": return .lineString(try line(coords, notes: &notes))
        case "MultiLineString": return .multiLineString(try array(coords, "MultiLineString") { (v) throws(FormatError) in try line(v, notes: &notes) })
        case "Polygon": return .polygon(try polygon(coords, notes: &notes))
        case "MultiPolygon": return .multiPolygon(try array(coords, "MultiPolygon") { (v) throws(FormatError) in try polygon(v, notes: &notes) })
        default: throw invalid("unknown geometry type \"\(type)\" (RFC 7946 types are case-sensitive, e.g. \"Point\")")
        }
    }

    private static func array<T>(_ v: JSONValue, _ what: String, _ body: (JSONValue) throws(FormatError) -> T) throws(FormatError) -> [T] {
        guard case .array(let items) = v else { throw invalid("\(what) coordinates must be an array, found \(v.typeName)") }
        var out: [T] = []
        out.reserveCapacity(items.count)
        for item in items { out.append(try body(item)) }
        return out
    }

    /// Checks one position: 2 or 3 finite numbers within range (RFC 7946 §3.1.1).
    static func position(_ v: JSONValue, notes: inout [String]) throws(FormatError) -> Position {
        guard case .array(let a) = v else { throw invalid("a position must be an array of numbers, found \(v.typeName)") }
        guard a.count >= 2 else { throw invalid("a position needs at least 2 numbers, found \(a.count)") }
        guard let lon = a[0].doubleValue, let lat = a[1].doubleValue else {
            throw invalid("coordinates must be numbers, found \(a[0].typeName), \(a[1].typeName)")
        }
        var alt: Double?
        if a.count >= 3 {
            guard let z = a[2].doubleValue else { throw invalid("altitude must be a number, found \(a[2].typeName)") }
            alt = z
            if a.count > 3 { notes.append("position with \(a.count) values; values after the third dropped") }
        }
        let p = Position(lon: lon, lat: lat, alt: alt)
        try check(p)
        return p
    }

    /// Throws when a position is outside WGS 84 (|lat| > 90, |lon| > 360) or not finite.
    static func check(_ p: Position) throws(FormatError) {
        guard abs(p.lat) <= 90, abs(p.lon) <= maxLongitude, p.alt?.isFinite ?? true else {
            throw invalid("coordinate [\(p.lon), \(p.lat)] is out of range (longitude ±\(Int(maxLongitude)), latitude ±90); is the file in a projected CRS?")
        }
    }

    private static func positions(_ v: JSONValue, notes: inout [String]) throws(FormatError) -> [Position] {
        try array(v, "position list") { (item) throws(FormatError) in try position(item, notes: &notes) }
    }

    private static func line(_ v: JSONValue, notes: inout [String]) throws(FormatError) -> [Position] {
        let ps = try positions(v, notes: &notes)
        guard ps.count >= 2 else { throw invalid("a line needs at least 2 positions, found \(ps.count)") }
        return ps
    }

    private static func polygon(_ v: JSONValue, notes: inout [String]) throws(FormatError) -> [[Position]] {
        let rings = try array(v, "Polygon") { (r) throws(FormatError) in try ring(positions(r, notes: &notes), notes: &notes) }
        guard !rings.isEmpty else { throw invalid("a Polygon needs at least one ring") }
        return rings
    }

    /// Validates a linear ring (RFC 7946 §3.1.6): closed, at least 4 positions.
    /// An unclosed ring is closed (and noted), since the intent is unambiguous.
    static func ring(_ ps: [Position], notes: inout [String]) throws(FormatError) -> [Position] {
        var ring = ps
        if let first = ring.first, let last = ring.last, first.lon != last.lon || first.lat != last.lat {
            ring.append(first)
            notes.append("unclosed polygon ring closed")
        }
        guard ring.count >= 4 else { throw invalid("a polygon ring needs at least 4 positions, found \(ps.count)") }
        return ring
    }

    private static func checkBBox(_ v: JSONValue, notes: inout [String]) {
        guard case .array(let a) = v, a.count == 4 || a.count == 6, a.allSatisfy(\.isNumber) else {
            notes.append("invalid \"bbox\" (RFC 7946 §5: 4 or 6 numbers) ignored")
            return
        }
    }

    static func invalid(_ message: String) -> FormatError { .invalidFeature(message: message) }
}
