import GeoModel

/// Resolves the style of every feature: per-layer defaults from a palette, layer rules over
/// them, and the feature's simplestyle properties (simplestyle-spec 1.1.0) over both.
///
/// The palette colours were picked to read on white and on a transparent background over
/// dark basemaps: mid-lightness, saturated, distinct in hue. Polygons get a translucent fill
/// and a 1 px outline of the same colour, lines 2 px, points a medium disc with a white rim.
public struct StyleSheet: Sendable {
    /// The default colour cycle, one colour per layer in the order layers are first seen.
    public static let defaultPalette: [RenderColor] = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    ].map { RenderColor(parsing: $0)! }

    public static let defaultFillOpacity = 0.4
    public static let defaultPolygonStrokeWidth = 1.0
    public static let defaultLineWidth = 2.0

    public var palette: [RenderColor]
    /// Rules per layer name.
    public var layers: [String: LayerStyle]
    /// The canvas background (nil: transparent).
    public var background: RenderColor?

    public init(palette: [RenderColor] = StyleSheet.defaultPalette, layers: [String: LayerStyle] = [:], background: RenderColor? = nil) {
        precondition(!palette.isEmpty, "a style sheet needs at least one palette colour")
        self.palette = palette
        self.layers = layers
        self.background = background
    }

    /// The style of a feature of geometry `kind` in the layer at `layerIndex` (the order
    /// layers are drawn in), given its properties.
    public func style(layer: String, layerIndex: Int, kind: GeometryKind, properties: some Sequence<(key: String, value: JSONValue)>) -> FeatureStyle {
        let base = palette[layerIndex % palette.count]
        var s: FeatureStyle
        switch kind {
        case .polygon: s = FeatureStyle(fill: base, fillOpacity: StyleSheet.defaultFillOpacity, stroke: base, strokeWidth: StyleSheet.defaultPolygonStrokeWidth)
        case .line: s = FeatureStyle(stroke: base, strokeWidth: StyleSheet.defaultLineWidth)
        case .point: s = FeatureStyle(markerColor: base)
        }
        let rules = layers[layer]
        if let r = rules { apply(r, to: &s) }
        guard rules?.featurePropertiesWin ?? true else { return s }
        for (key, value) in properties {
            switch key {
            case "stroke": if let c = color(value) { s.stroke = c }
            case "stroke-width": if let d = value.doubleValue, d >= 0, d <= 100 { s.strokeWidth = d }
            case "stroke-opacity": if let d = value.doubleValue { s.strokeOpacity = min(1, max(0, d)) }
            case "fill": if let c = color(value) { s.fill = c }
            case "fill-opacity": if let d = value.doubleValue { s.fillOpacity = min(1, max(0, d)) }
            case "marker-color": if let c = color(value) { s.markerColor = c }
            case "marker-size": if case .string(let t) = value, let m = MarkerSize(rawValue: t) { s.markerSize = m }
            default: break
            }
        }
        if kind == .point && s.markerColor == nil { s.markerColor = base }
        return s
    }

    private func apply(_ r: LayerStyle, to s: inout FeatureStyle) {
        if let v = r.fill { s.fill = v }
        if let v = r.fillOpacity { s.fillOpacity = v }
        if let v = r.stroke { s.stroke = v }
        if let v = r.strokeWidth { s.strokeWidth = v }
        if let v = r.strokeOpacity { s.strokeOpacity = v }
        if let v = r.markerColor { s.markerColor = v }
        if let v = r.markerSize { s.markerSize = v }
    }

    private func color(_ v: JSONValue) -> RenderColor? {
        guard case .string(let t) = v else { return nil }
        return RenderColor(parsing: t)
    }

    /// What a feature is drawn as.
    public enum GeometryKind: Sendable { case point, line, polygon }
}
