import GeoModel

/// Collects a GPX wpt/rte/trk's properties in togeojson's conventions while its elements stream past.
///
/// togeojson reads `name`, `cmt`, `desc`, `type`, `time`, `keywords` as the *first descendant*
/// with that name (so a track without its own `time` takes its first point's), every element in
/// a prefixed (extension) namespace as `prefix_name` = trimmed text (last one
/// wins: Garmin `gpxx_DisplayColor`, OpenCPN `opencpn_*`, `gpxtpx_hr` …), every `link` as
/// `{href, text, type}`, and the gpx_style `line` extension as `stroke`, `stroke-opacity`,
/// `stroke-width` (mm → px at 96 dpi). GPX 1.1 §4 (wptType, rteType, trkType).
struct GPXProperties {
    static let fields = ["name", "cmt", "desc", "type", "time", "keywords"]
    /// Prefixes bound to the GPX namespace itself; every other prefixed element is an extension.
    let gpxPrefixes: Set<String>
    private var first: [String: String] = [:]
    private var extensions = JSONObject()
    private var links: [JSONValue] = []
    private var line: JSONObject?

    init(gpxPrefixes: Set<String>) {
        self.gpxPrefixes = gpxPrefixes
    }

    private func isExtension(_ node: XMLNode) -> Bool { !node.prefix.isEmpty && !gpxPrefixes.contains(node.prefix) }

    /// Records `node` and its descendants, in document order.
    mutating func visit(_ node: XMLNode) {
        if Self.fields.contains(node.name), !isExtension(node), first[node.name] == nil {
            let v = node.textContent
            if !v.isEmpty { first[node.name] = v }
        }
        if isExtension(node) {
            extensions[node.prefix + "_" + node.name] = .string(node.textContent.trimmed)
        }
        if node.name == "link" {
            var link = JSONObject()
            link["href"] = node.attribute("href").map { .string($0) } ?? .null
            for key: XMLName in ["text", "type"] { if let v = node.value(key), !v.isEmpty { link[key.string] = .string(v) } }
            links.append(.object(link))
        }
        if node.name == "line", line == nil {
            var p = JSONObject()
            if let c = node.value("color"), !c.isEmpty { p["stroke"] = .string("#" + c) }
            if let o = node.number("opacity") { p["stroke-opacity"] = KMLStyle.number(o) }
            if let w = node.number("width") { p["stroke-width"] = KMLStyle.number(w * 96 / 25.4) }
            line = p
        }
        for c in node.children where c.name != "trkpt" && c.name != "rtept" { visit(c) }
    }

    /// Records the descendants of a point (not the point element itself).
    mutating func visitChildren(of node: XMLNode) {
        for c in node.children { visit(c) }
    }

    /// The properties in togeojson's order; `lineStyle` only for rte/trk.
    func properties(gpxType: String?, lineStyle: Bool) -> JSONObject {
        var p = JSONObject()
        if let gpxType { p["_gpxType"] = .string(gpxType) }
        for f in Self.fields { if let v = first[f] { p[f] = .string(v) } }
        KMLStyle.merge(extensions, into: &p)
        if !links.isEmpty { p["links"] = .array(links) }
        if lineStyle, let line { KMLStyle.merge(line, into: &p) }
        return p
    }
}

/// One GPX point (wpt, rtept, trkpt): position, time and per-point extension values.
struct GPXPoint {
    var position: Position?
    var time: String?
    /// `(name, value)` pairs from `<extensions>`, Garmin TrackPointExtension flattened;
    /// heart rate is named `heart` (togeojson's name).
    var extensionValues: [(String, JSONValue)] = []

    init(_ node: XMLNode) throws(FormatError) {
        let lon = node.attribute("lon").flatMap(XMLNode.parseFloat)
        let lat = node.attribute("lat").flatMap(XMLNode.parseFloat)
        if let lon, let lat {
            let p = Position(lon: lon, lat: lat, alt: node.child("ele").flatMap { XMLNode.parseFloat($0.textContent) })
            try GeoJSONCoding.check(p)
            position = p
        }
        time = node.child("time")?.textContent
        if let ext = node.child("extensions") { Self.collect(ext, into: &extensionValues) }
    }

    private static func collect(_ node: XMLNode, into out: inout [(String, JSONValue)]) {
        for c in node.children {
            if c.name == "TrackPointExtension" {
                collect(c, into: &out)
                continue
            }
            let qname = c.prefix.isEmpty ? c.name : c.prefix + ":" + c.name
            let name = (qname == "gpxtpx:hr" || c.name == "hr" || c.name == "heart") ? "heart" : qname
            let text = c.textContent
            out.append((name, XMLNode.parseFloat(text).map(KMLStyle.number) ?? .string(text)))
        }
    }

    /// togeojson's coordinateProperties key for an extension value: `heart`, else name + "s".
    static func pluralKey(_ name: String) -> String {
        if name == "heart" { return name }
        return (name.hasPrefix("gpxtpx:") ? String(name.dropFirst(7)) : name) + "s"
    }
}
