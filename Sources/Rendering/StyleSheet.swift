import GeoModel
import Tiling

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
    /// layers are drawn in), given its properties; `context` (the feature and the zoom) decides
    /// which of the layer's conditional rules apply.
    public func style(layer: String, layerIndex: Int, kind: GeometryKind, properties: some Sequence<(key: String, value: JSONValue)>,
                      context: ExpressionContext? = nil) -> FeatureStyle {
        let base = palette[layerIndex % palette.count]
        let rules = layers[layer].map { $0.rules.isEmpty ? $0 : $0.resolved(for: context) }
        if let r = rules, r.onlyStyledSymbolizers { return StyleSheet.styledOnly(r, kind: kind) }
        var s: FeatureStyle
        switch kind {
        case .polygon: s = FeatureStyle(fill: base, fillOpacity: StyleSheet.defaultFillOpacity, stroke: base, strokeWidth: StyleSheet.defaultPolygonStrokeWidth)
        case .line: s = FeatureStyle(stroke: base, strokeWidth: StyleSheet.defaultLineWidth)
        case .point: s = FeatureStyle(markerColor: base)
        }
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
        if let v = r.markerWidth { s.markerWidth = v }
        if let v = r.markerOpacity { s.markerOpacity = v }
        if let v = r.markerFillOpacity { s.markerFillOpacity = v }
        if let v = r.markerOutlineOpacity { s.markerOutlineOpacity = v }
        if let v = r.markerOutline { s.markerOutline = v }
        if let v = r.markerOutlineWidth { s.markerOutlineWidth = v }
    }

    /// Mapnik's defaults for a symbolizer a CartoCSS rule names without giving every value
    /// (carto's reference: `polygon-fill` grey, `line-color` black 1 px, `marker-fill` blue,
    /// `marker-width` 10, `marker-line-color` black 0.5 px).
    static let mapnikPolygonFill = RenderColor(r: 128, g: 128, b: 128)
    static let mapnikMarkerFill = RenderColor(r: 0, g: 0, b: 255)

    /// A feature's style when the layer draws only what its rules style: a polygon gets a fill
    /// if `polygon-*` was set and an outline if `line-*` was, a line only a `line-*` stroke, a
    /// point only a `marker-*` marker; anything unstyled stays nil and is not drawn.
    static func styledOnly(_ r: LayerStyle, kind: GeometryKind) -> FeatureStyle {
        var s = FeatureStyle(markerOutline: nil)
        if kind == .polygon, r.styledFill {
            s.fill = r.fill ?? mapnikPolygonFill
            s.fillOpacity = r.fillOpacity ?? 1
        }
        if kind != .point, r.styledLine {
            s.stroke = r.stroke ?? .black
            s.strokeWidth = r.strokeWidth ?? 1
            s.strokeOpacity = r.strokeOpacity ?? 1
        }
        if kind == .point, r.styledMarker {
            s.markerColor = r.markerColor ?? mapnikMarkerFill
            s.markerWidth = r.markerWidth ?? r.markerSize?.diameter ?? 10
            s.markerOpacity = r.markerOpacity ?? 1
            s.markerFillOpacity = r.markerFillOpacity ?? 1
            s.markerOutlineOpacity = r.markerOutlineOpacity ?? 1
            s.markerOutline = r.markerOutline ?? .black
            s.markerOutlineWidth = r.markerOutlineWidth ?? 0.5
        }
        return s
    }

    private func color(_ v: JSONValue) -> RenderColor? {
        guard case .string(let t) = v else { return nil }
        return RenderColor(parsing: t)
    }

    /// What a feature is drawn as.
    public enum GeometryKind: Sendable {
        case point, line, polygon

        /// The name expressions see as `geometry-type`.
        public var expressionName: String {
            switch self {
            case .point: "Point"
            case .line: "LineString"
            case .polygon: "Polygon"
            }
        }
    }
}
