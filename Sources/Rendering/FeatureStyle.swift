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
    /// The marker's diameter in 1× pixels when a style gives a number (CartoCSS `marker-width`);
    /// nil: `markerSize` decides.
    public var markerWidth: Double?
    /// Opacity of the whole marker, fill and outline (CartoCSS `marker-opacity`).
    public var markerOpacity: Double
    /// Opacity of the marker's fill and of its outline alone (`marker-fill-opacity`,
    /// `marker-line-opacity`), on top of `markerOpacity`.
    public var markerFillOpacity: Double
    public var markerOutlineOpacity: Double

    public init(fill: RenderColor? = nil, fillOpacity: Double = 1, stroke: RenderColor? = nil, strokeWidth: Double = 1,
                strokeOpacity: Double = 1, markerColor: RenderColor? = nil, markerSize: MarkerSize = .medium,
                markerOutline: RenderColor? = .white, markerOutlineWidth: Double = 1.5, markerWidth: Double? = nil, markerOpacity: Double = 1,
                markerFillOpacity: Double = 1, markerOutlineOpacity: Double = 1) {
        self.fill = fill
        self.fillOpacity = fillOpacity
        self.stroke = stroke
        self.strokeWidth = strokeWidth
        self.strokeOpacity = strokeOpacity
        self.markerColor = markerColor
        self.markerSize = markerSize
        self.markerOutline = markerOutline
        self.markerOutlineWidth = markerOutlineWidth
        self.markerWidth = markerWidth
        self.markerOpacity = markerOpacity
        self.markerFillOpacity = markerFillOpacity
        self.markerOutlineOpacity = markerOutlineOpacity
    }

    /// The marker diameter in 1× pixels.
    public var markerDiameter: Double { markerWidth ?? markerSize.diameter }
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
