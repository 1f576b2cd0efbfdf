import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Converts one KML Placemark, GroundOverlay or NetworkLink element into a Feature.
///
/// Property conventions are togeojson's (the converter Mapbox tools use), in its order:
/// `name`, `address`, `visibility` (boolean), `open`, `phoneNumber`, `description` (an
/// `{"@type":"html","value":…}` object when it came in CDATA), `styleUrl` plus the shared
/// style's simplestyle properties, inline style properties, ExtendedData `Data` (strings)
/// and `SimpleData` (typed by the Schema's `SimpleField type`), `timespan` {begin,end},
/// `timestamp`, and `coordinateProperties.times` for gx:Track `when`s. Geometry:
/// KML 2.2 §10 — Point, LineString, LinearRing (as a LineString, like togeojson), Polygon
/// (outer ring first), MultiGeometry (homogeneous → Multi*, mixed → GeometryCollection),
/// gx:Track / gx:MultiTrack, GroundOverlay LatLonBox (rotated) / gx:LatLonQuad and a
/// NetworkLink's Region as polygons.
enum KMLPlacemark {
    static func feature(from node: XMLNode, styles: KMLStyleTable, schema: [String: String], notes: inout [String]) throws(FormatError) -> Feature {
        var p = JSONObject(capacity: 16)
        var geometry: Geometry?
        var times: [JSONValue] = []
        let isNetworkLink = node.isNamed("NetworkLink")
        if node.isNamed("GroundOverlay") {
            p["@geometry-type"] = "groundoverlay"
            geometry = try groundOverlayBox(node)
        } else if isNetworkLink {
            p["@geometry-type"] = "networklink"
            if let box = node.first("Region")?.first("LatLonAltBox") { geometry = try latLonBox(box, rotation: nil) }
        } else {
            var parts: [Geometry] = []
            var sawMulti = false
            try collect(node, into: &parts, times: &times, sawMulti: &sawMulti)
            geometry = combine(parts)
        }
        for field in isNetworkLink ? networkLinkFields : placemarkFields {
            if let v = node.value(field), !v.isEmpty { p[field.string] = .string(v) }
        }
        if let d = node.first("description") {
            if let html = d.cdata {
                var o = JSONObject(capacity: 2)
            o.appendUnchecked(key: "@type", value: "html")
            o.appendUnchecked(key: "value", value: .string(html))
            p["description"] = .object(o)
            } else if case let v = d.textContent, !v.isEmpty {
                p["description"] = .string(v)
            }
        }
        if let url = node.value("styleUrl"), !url.isEmpty {
            let id = KMLStyleTable.normalize(url)
            p["styleUrl"] = .string(id)
            if let shared = styles.lookup(id) { KMLStyle.merge(shared, into: &p) }
        }
        KMLStyle.merge(KMLStyle.properties(of: node), into: &p)
        if !node.isNamed("Placemark"), let href = KMLStyle.iconHref(node) { p["icon"] = .string(href) }
        if let data = node.first("ExtendedData") { extendedData(data, schema: schema, into: &p) }
        if let span = node.first("TimeSpan") {
            p["timespan"] = ["begin": .string(span.value("begin") ?? ""), "end": .string(span.value("end") ?? "")]
        }
        if let stamp = node.first("TimeStamp") { p["timestamp"] = .string(stamp.value("when") ?? "") }
        if isNetworkLink { networkLink(node, into: &p) }
        if !times.isEmpty { p["coordinateProperties"] = ["times": times.count == 1 ? times[0] : .array(times)] }
        if let v = p["visibility"]?.stringValue { p["visibility"] = .bool(v != "0") }
        var feature = Feature(geometry: geometry, properties: p)
        if let id = node.attribute("id"), !id.isEmpty { feature.id = .string(id) }
        return feature
    }

    /// Text members copied as string properties, in togeojson's order (`description`, an
    /// HTML object when it is CDATA, comes last).
    private static let placemarkFields: [XMLName] = ["name", "address", "visibility", "open", "phoneNumber"]
    private static let networkLinkFields: [XMLName] = ["name", "address", "visibility", "open", "phoneNumber", "styleUrl", "refreshVisibility", "flyToView"]

    /// Walks geometry children, flattening MultiGeometry / MultiTrack as togeojson does.
    private static func collect(_ node: XMLNode, into parts: inout [Geometry], times: inout [JSONValue], sawMulti: inout Bool) throws(FormatError) {
        var next = node.firstChild
        while let child = next {
            next = child.nextSibling(in: node)
            switch part(child) {
            case .multi:
                sawMulti = true
                try collect(child, into: &parts, times: &times, sawMulti: &sawMulti)
            case .point:
                if let first = try firstCoordinate(child) { parts.append(.point(first)) }
            case .line:
                let ps = try coordinates(child)
                if ps.count == 1 { throw GeoJSONCoding.invalid("\(child.name) has a single position; at least 2 are needed") }
                if ps.count >= 2 { parts.append(.lineString(ps)) }
            case .polygon:
                var rings: [[Position]] = []
                var ignored: [String] = []
                for ring in child.all("LinearRing") {
                    let ps = try coordinates(ring)
                    if ps.isEmpty { continue }
                    rings.append(try GeoJSONCoding.ring(ps, notes: &ignored))
                }
                if !rings.isEmpty { parts.append(.polygon(rings)) }
            case .track:
                if let (g, when) = try track(child) {
                    parts.append(g)
                    if !when.isEmpty { times.append(.array(when.map { .string($0) })) }
                }
            case .other:
                continue
            }
        }
    }

    /// The geometry elements `collect` knows (KML 2.2 §10, gx:Track / gx:MultiTrack).
    private enum Part { case point, line, polygon, multi, track, other }

    private static func part(_ n: XMLNode) -> Part {
        if n.isNamed("Point") { return .point }
        if n.isNamed("LineString") || n.isNamed("LinearRing") { return .line }
        if n.isNamed("Polygon") { return .polygon }
        if n.isNamed("MultiGeometry") || n.isNamed("MultiTrack") { return .multi }
        if n.isNamed("Track") { return .track }
        return .other
    }

    private static func coordinates(_ node: XMLNode) throws(FormatError) -> [Position] {
        try withCoordinates(node) { u throws(FormatError) in try KMLCoordinates.parse(u) } ?? []
    }

    private static func firstCoordinate(_ node: XMLNode) throws(FormatError) -> Position? {
        try withCoordinates(node) { u throws(FormatError) in try KMLCoordinates.first(u) } ?? nil
    }

    /// Runs `body` on the text of the first `<coordinates>` below `node`: straight from the
    /// source bytes when they need no decoding (the usual case). Nil without `<coordinates>`.
    private static func withCoordinates<R>(_ node: XMLNode, _ body: (UnsafeRawBufferPointer) throws(FormatError) -> R) throws(FormatError) -> R? {
        guard let c = node.first("coordinates") else { return nil }
        if let raw = c.rawTextContent {
            defer { withExtendedLifetime(c) {} }
            return try body(raw)
        }
        var text = c.textContent
        let result = text.withUTF8 { u -> Result<R, FormatError> in
            do throws(FormatError) { return .success(try body(UnsafeRawBufferPointer(u))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// gx:Track (KML 2.2 gx extension): `when` + `gx:coord` ("lon lat alt") lists.
    /// A track with one distinct position is a Point, otherwise a LineString.
    private static func track(_ node: XMLNode) throws(FormatError) -> (Geometry, [String])? {
        var positions: [Position] = []
        for c in node.all("coord") {
            let values = c.textContent.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            guard values.count >= 2, let lon = Double(values[0]), let lat = Double(values[1]) else {
                throw GeoJSONCoding.invalid("gx:coord \"\(c.textContent.trimmed)\" is not \"lon lat [alt]\"")
            }
            let p = Position(lon: lon, lat: lat, alt: values.count >= 3 ? Double(values[2]) : nil)
            try GeoJSONCoding.check(p)
            positions.append(p)
        }
        guard let first = positions.first else { return nil }
        let when = node.all("when").map(\.textContent)
        let distinct = positions.contains(where: { $0.lon != first.lon || $0.lat != first.lat })
        return (distinct ? .lineString(positions) : .point(first), when)
    }

    /// One geometry stays itself; several of one kind become a Multi*; mixed ones a GeometryCollection.
    static func combine(_ parts: [Geometry]) -> Geometry? {
        guard let first = parts.first else { return nil }
        if parts.count == 1 { return first }
        var points: [Position] = [], lines: [[Position]] = [], polygons: [[[Position]]] = []
        for g in parts {
            switch g {
            case .point(let p): points.append(p)
            case .lineString(let l): lines.append(l)
            case .polygon(let r): polygons.append(r)
            default: return .geometryCollection(parts)
            }
        }
        if points.count == parts.count { return .multiPoint(points) }
        if lines.count == parts.count { return .multiLineString(lines) }
        if polygons.count == parts.count { return .multiPolygon(polygons) }
        return .geometryCollection(parts)
    }

    private static func groundOverlayBox(_ node: XMLNode) throws(FormatError) -> Geometry? {
        if let quad = node.first("LatLonQuad") {
            var ignored: [String] = []
            let ps = try coordinates(quad)
            return ps.isEmpty ? nil : .polygon([try GeoJSONCoding.ring(ps, notes: &ignored)])
        }
        guard let box = node.first("LatLonBox") else { return nil }
        return try latLonBox(box, rotation: box.number("rotation"))
    }

    /// A LatLonBox / LatLonAltBox as a polygon, rotated counter-clockwise about its centre
    /// by `rotation` degrees (KML 2.2 §11.3.3), as togeojson computes it.
    private static func latLonBox(_ box: XMLNode, rotation: Double?) throws(FormatError) -> Geometry? {
        guard let north = box.number("north"), let south = box.number("south"),
              let east = box.number("east"), let west = box.number("west") else { return nil }
        var ring = [Position(lon: west, lat: north), Position(lon: east, lat: north), Position(lon: east, lat: south),
                    Position(lon: west, lat: south), Position(lon: west, lat: north)]
        if let rotation {
            let cx = (west + east) / 2, cy = (south + north) / 2
            ring = ring.map { p in
                let dx = p.lon - cx, dy = p.lat - cy
                let distance = (dx * dx + dy * dy).squareRoot()
                let angle = atan2(dy, dx) + rotation * Double.pi / 180
                return Position(lon: cx + cos(angle) * distance, lat: cy + sin(angle) * distance)
            }
        }
        for p in ring { try GeoJSONCoding.check(p) }
        return .polygon([ring])
    }

    /// ExtendedData (KML 2.2 §9.3): `Data` values as strings, `SimpleData` typed by the Schema.
    private static func extendedData(_ node: XMLNode, schema: [String: String], into p: inout JSONObject) {
        node.forEach("Data") { data in
            p[data.attribute("name") ?? ""] = .string(data.value("value") ?? "")
        }
        node.forEach("SimpleData") { simple in
            let key = simple.attribute("name") ?? ""
            p[key] = typed(simple.textContent, type: schema[key] ?? "string")
        }
    }

    /// Schema field types (KML 2.2 §9.7): numbers become JSON numbers, bool a boolean.
    static func typed(_ text: String, type: String) -> JSONValue {
        switch type {
        case "int", "uint", "short", "ushort", "float", "double":
            let t = text.trimmed
            if t.isEmpty { return 0 }
            return Double(t).map(KMLStyle.number) ?? .null
        case "bool": return .bool(!text.isEmpty)
        default: return .string(text)
        }
    }

    private static func networkLink(_ node: XMLNode, into p: inout JSONObject) {
        if let link = node.first("Link") ?? node.first("Url") {
            for key: XMLName in ["href", "refreshMode", "refreshInterval", "viewRefreshMode", "viewRefreshTime", "viewBoundScale", "viewFormat", "httpQuery"] {
                if let v = link.value(key), !v.isEmpty { p[key.string] = .string(v) }
            }
        }
        if let region = node.first("Region") {
            let lod = region.first("Lod")
            p["lod"] = [
                lod?.number("minLodPixels").map(KMLStyle.number) ?? -1,
                lod?.number("maxLodPixels").map(KMLStyle.number) ?? -1,
                lod?.number("minFadeExtent").map(KMLStyle.number) ?? .null,
                lod?.number("maxFadeExtent").map(KMLStyle.number) ?? .null,
            ]
        }
    }
}
