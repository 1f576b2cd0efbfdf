import GeoModel

/// KML styles as simplestyle-spec properties, following togeojson's conventions.
///
/// KML 2.2 §12 colours are `aabbggrr` hex; simplestyle wants `#rrggbb` plus a separate
/// opacity, so `ff0000ff` becomes `"stroke": "#ff0000", "stroke-opacity": 1`. Line,
/// polygon, label and icon styles map to `stroke*`, `fill*`, `label-*` and `icon*`.
enum KMLStyle {
    /// The properties a `<Style>` (or a Placemark with inline styles) contributes.
    static func properties(of node: XMLNode) -> JSONObject {
        var p = JSONObject()
        if let poly = node.first("PolyStyle") {
            if let c = poly.value("color") { merge(color(c, prefix: "fill"), into: &p) }
            if poly.value("fill") == "0" { p["fill-opacity"] = 0 }
            if poly.value("outline") == "0" { p["stroke-opacity"] = 0 }
        }
        if let line = node.first("LineStyle") {
            if let c = line.value("color") { merge(color(c, prefix: "stroke"), into: &p) }
            if let w = line.number("width") { p["stroke-width"] = number(w) }
        }
        if let label = node.first("LabelStyle") {
            if let c = label.value("color") { merge(color(c, prefix: "label"), into: &p) }
            if let s = label.number("scale") { p["label-scale"] = number(s) }
        }
        if let icon = node.first("IconStyle") {
            if let c = icon.value("color") { merge(color(c, prefix: "icon"), into: &p) }
            if let s = icon.number("scale") { p["icon-scale"] = number(s) }
            if let h = icon.number("heading") { p["icon-heading"] = number(h) }
            if let hot = icon.first("hotSpot"),
               let x = hot.attribute("x").flatMap(XMLNode.parseFloat), let y = hot.attribute("y").flatMap(XMLNode.parseFloat) {
                p["icon-offset"] = [number(x), number(y)]
                p["icon-offset-units"] = [.string(hot.attribute("xunits") ?? ""), .string(hot.attribute("yunits") ?? "")]
            }
            if let href = iconHref(icon) { p["icon"] = .string(href) }
        }
        return p
    }

    /// `<Icon><href>` of an IconStyle or GroundOverlay.
    static func iconHref(_ node: XMLNode) -> String? {
        guard let href = node.first("Icon")?.value("href"), !href.isEmpty else { return nil }
        return href
    }

    /// Converts a KML `aabbggrr` (or `#rrggbb`) colour into simplestyle colour and opacity.
    static func color(_ raw: String, prefix: String) -> JSONObject {
        var v = Substring(raw.filter { !$0.isWhitespace })
        if v.first == "#" { v = v.dropFirst() }
        let colorKey = prefix == "stroke" || prefix == "fill" ? prefix : prefix + "-color"
        var p = JSONObject()
        let chars = Array(v)
        if chars.count == 6 || chars.count == 3 {
            p[colorKey] = .string("#" + String(v))
        } else if chars.count == 8 {
            let alpha = Int(String(chars[0..<2]), radix: 16).map { Double($0) / 255 } ?? .nan
            p[prefix + "-opacity"] = alpha.isNaN ? .null : number(alpha)
            p[colorKey] = .string("#" + String(chars[6..<8]) + String(chars[4..<6]) + String(chars[2..<4]))
        }
        return p
    }

    static func merge(_ other: JSONObject, into p: inout JSONObject) {
        for m in other { p[m.key] = m.value }
    }

    /// A JavaScript-style number: integral values as `.int`, others as `.double`, NaN as null.
    static func number(_ d: Double) -> JSONValue {
        guard d.isFinite else { return .null }
        if d == d.rounded(), abs(d) < 9.0e15 { return .int(Int64(d)) }
        return .double(d)
    }
}
