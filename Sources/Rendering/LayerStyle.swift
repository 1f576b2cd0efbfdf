import Tiling

/// Style rules of one layer: values that replace the palette defaults for its features,
/// then conditional `rules` over them, before the features' own simplestyle properties.
///
/// Every value is optional: nil leaves the value below it in place. A CartoCSS front end
/// sets `onlyStyledSymbolizers`, because in CartoCSS a layer draws only what its rules style
/// (a polygon with only `line-*` values has no fill, a point without `marker-*` is not drawn).
public struct LayerStyle: Sendable, Equatable {
    public var fill: RenderColor?
    public var fillOpacity: Double?
    public var stroke: RenderColor?
    public var strokeWidth: Double?
    public var strokeOpacity: Double?
    public var markerColor: RenderColor?
    public var markerSize: MarkerSize?
    /// Marker diameter in 1× pixels (overrides `markerSize`).
    public var markerWidth: Double?
    public var markerOpacity: Double?
    public var markerFillOpacity: Double?
    public var markerOutlineOpacity: Double?
    public var markerOutline: RenderColor?
    public var markerOutlineWidth: Double?
    /// Whether the features' simplestyle properties may override these rules (default yes).
    public var featurePropertiesWin: Bool
    /// Conditional rules applied in order over the values above; a later match overrides an
    /// earlier one value by value. The rules' own `rules` are not consulted.
    public var rules: [StyleRule]
    /// Draw only the symbolizers (fill, line, marker) this style sets a value for, with
    /// Mapnik's defaults for the values it leaves out, instead of the palette defaults.
    public var onlyStyledSymbolizers: Bool

    public init(fill: RenderColor? = nil, fillOpacity: Double? = nil, stroke: RenderColor? = nil, strokeWidth: Double? = nil,
                strokeOpacity: Double? = nil, markerColor: RenderColor? = nil, markerSize: MarkerSize? = nil,
                markerWidth: Double? = nil, markerOpacity: Double? = nil, markerFillOpacity: Double? = nil, markerOutlineOpacity: Double? = nil,
                markerOutline: RenderColor? = nil, markerOutlineWidth: Double? = nil,
                featurePropertiesWin: Bool = true, rules: [StyleRule] = [], onlyStyledSymbolizers: Bool = false) {
        self.fill = fill
        self.fillOpacity = fillOpacity
        self.stroke = stroke
        self.strokeWidth = strokeWidth
        self.strokeOpacity = strokeOpacity
        self.markerColor = markerColor
        self.markerSize = markerSize
        self.markerWidth = markerWidth
        self.markerOpacity = markerOpacity
        self.markerFillOpacity = markerFillOpacity
        self.markerOutlineOpacity = markerOutlineOpacity
        self.markerOutline = markerOutline
        self.markerOutlineWidth = markerOutlineWidth
        self.featurePropertiesWin = featurePropertiesWin
        self.rules = rules
        self.onlyStyledSymbolizers = onlyStyledSymbolizers
    }

    /// True when any rule's filter reads the feature (so the renderer must decode all its properties).
    public var rulesReadFeatures: Bool { rules.contains { $0.filter?.usesFeature ?? false } }

    /// These values with `other`'s set values written over them.
    public func overridden(by other: LayerStyle) -> LayerStyle {
        var s = self
        if let v = other.fill { s.fill = v }
        if let v = other.fillOpacity { s.fillOpacity = v }
        if let v = other.stroke { s.stroke = v }
        if let v = other.strokeWidth { s.strokeWidth = v }
        if let v = other.strokeOpacity { s.strokeOpacity = v }
        if let v = other.markerColor { s.markerColor = v }
        if let v = other.markerSize { s.markerSize = v }
        if let v = other.markerWidth { s.markerWidth = v }
        if let v = other.markerOpacity { s.markerOpacity = v }
        if let v = other.markerFillOpacity { s.markerFillOpacity = v }
        if let v = other.markerOutlineOpacity { s.markerOutlineOpacity = v }
        if let v = other.markerOutline { s.markerOutline = v }
        if let v = other.markerOutlineWidth { s.markerOutlineWidth = v }
        return s
    }

    /// The values for one feature: these, overridden by every rule whose filter holds, in order.
    public func resolved(for context: ExpressionContext?) -> LayerStyle {
        var s = self
        for rule in rules where rule.filter.map({ f in context.map { f.test($0) } ?? false }) ?? true {
            s = s.overridden(by: rule.style)
        }
        return s
    }

    /// Whether a feature of `kind` gets a fill, a line and a marker under `onlyStyledSymbolizers`.
    var styledFill: Bool { fill != nil || fillOpacity != nil }
    var styledLine: Bool { stroke != nil || strokeWidth != nil || strokeOpacity != nil }
    var styledMarker: Bool {
        markerColor != nil || markerSize != nil || markerWidth != nil || markerOpacity != nil || markerFillOpacity != nil
            || markerOutlineOpacity != nil || markerOutline != nil || markerOutlineWidth != nil
    }
}

/// One conditional rule of a layer: values applied to the features its filter selects.
public struct StyleRule: Sendable, Equatable {
    /// Evaluated on the feature's properties, id, geometry type and the tile's zoom (nil: always).
    public var filter: Expression?
    public var style: LayerStyle

    public init(filter: Expression?, style: LayerStyle) {
        self.filter = filter
        self.style = style
    }
}
