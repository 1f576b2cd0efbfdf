/// How one feature is drawn, in 1× pixels: the resolved style, independent of any style syntax.
///
/// `StyleSheet` produces it from simplestyle properties and per-layer rules; a CartoCSS
/// front end fills the same `LayerStyle` rules.
public struct FeatureStyle: Sendable, Equatable {
    public var fill: RenderColor?
    public var fillOpacity: Double
    public var stroke: RenderColor?
    public var strokeWidth: Double
    public var strokeOpacity: Double
    public var markerColor: RenderColor?
    public var markerSize: MarkerSize
    public var markerOutline: RenderColor?
    public var markerOutlineWidth: Double

    public init(fill: RenderColor? = nil, fillOpacity: Double = 1, stroke: RenderColor? = nil, strokeWidth: Double = 1,
                strokeOpacity: Double = 1, markerColor: RenderColor? = nil, markerSize: MarkerSize = .medium,
                markerOutline: RenderColor? = .white, markerOutlineWidth: Double = 1.5) {
        self.fill = fill
        self.fillOpacity = fillOpacity
        self.stroke = stroke
        self.strokeWidth = strokeWidth
        self.strokeOpacity = strokeOpacity
        self.markerColor = markerColor
        self.markerSize = markerSize
        self.markerOutline = markerOutline
        self.markerOutlineWidth = markerOutlineWidth
    }
}

/// simplestyle's `marker-size`, with the marker diameters in 1× pixels.
public enum MarkerSize: String, Sendable, CaseIterable {
    case small, medium, large

    public var diameter: Double {
        switch self {
        case .small: 8
        case .medium: 12
        case .large: 16
        }
    }
}

/// Style rules of one layer: values that replace the palette defaults for its features,
/// before the features' own simplestyle properties are applied.
public struct LayerStyle: Sendable, Equatable {
    public var fill: RenderColor?
    public var fillOpacity: Double?
    public var stroke: RenderColor?
    public var strokeWidth: Double?
    public var strokeOpacity: Double?
    public var markerColor: RenderColor?
    public var markerSize: MarkerSize?
    /// Whether the features' simplestyle properties may override these rules (default yes).
    public var featurePropertiesWin: Bool

    public init(fill: RenderColor? = nil, fillOpacity: Double? = nil, stroke: RenderColor? = nil, strokeWidth: Double? = nil,
                strokeOpacity: Double? = nil, markerColor: RenderColor? = nil, markerSize: MarkerSize? = nil, featurePropertiesWin: Bool = true) {
        self.fill = fill
        self.fillOpacity = fillOpacity
        self.stroke = stroke
        self.strokeWidth = strokeWidth
        self.strokeOpacity = strokeOpacity
        self.markerColor = markerColor
        self.markerSize = markerSize
        self.featurePropertiesWin = featurePropertiesWin
    }
}
