import GeoModel
import Rendering
import Tiling

/// A CARTO layer's CartoCSS compiled to Rendering's style model.
///
/// Supported: `#layer`, `Map`, `*` and `::attachment` selectors, nesting, filters `[prop = v]`,
/// `!=`, `>`, `>=`, `<`, `<=`, `[zoom >= n]` and `[mapnik::geometry_type = 1]` (combinable),
/// variables (`@name: value;`), symbolizer instances (`first/marker-fill`, merged),
/// the properties in `CartoStyle.properties` plus `Map { background-color }`, colours as CSS
/// names, `#rgb`, `#rrggbb`, `rgb()`, `rgba()`. An unknown property is a warning (the layer
/// still draws); a syntax error or a bad value for a known property is a `CartoError` with
/// line and column.
///
/// Precedence follows CartoCSS: a rule with more filters (zoom filters count) overrides a less
/// specific one, and among equally specific rules the later one wins. As in CartoCSS, a layer
/// draws only what its rules style: polygons get a fill only from `polygon-*`, outlines and
/// lines only from `line-*`, points only from `marker-*`. As in CARTO, a layer's CartoCSS
/// applies to that layer whatever `#name` its selectors use.
public struct CartoStyle: Sendable, Equatable {
    /// Longest accepted CartoCSS, in UTF-8 bytes.
    public static let maxLength = 256 * 1024
    /// Warnings kept (later ones are summarised in the last).
    public static let maxWarnings = 50

    /// The layer's style: its conditional rules in precedence order.
    public let layer: LayerStyle
    /// `Map { background-color }`, if given.
    public let background: RenderColor?
    /// What was accepted but ignored (unknown properties and the like), each with its position.
    public let warnings: [String]
    /// The `#names` the selectors use, in first-use order.
    public let layerNames: [String]

    /// The properties a layer rule may set.
    public static let properties: [String] = [
        "marker-fill", "marker-width", "marker-line-color", "marker-line-width", "marker-opacity", "marker-fill-opacity", "marker-line-opacity",
        "line-color", "line-width", "line-opacity", "polygon-fill", "polygon-opacity",
    ]

    /// Parses and compiles `text`.
    public static func parse(_ text: String) throws(CartoError) -> CartoStyle {
        guard text.utf8.count <= maxLength else {
            throw CartoError("the CartoCSS is \(text.utf8.count) bytes; at most \(maxLength) bytes are accepted")
        }
        var parser = CartoCSSParser(tokens: try CartoCSSLexer.tokens(text))
        try parser.parse()
        var compiler = CartoStyleCompiler()
        return try compiler.compile(parser.blocks)
    }

    /// A style sheet that draws each named (MVT) layer with its CartoCSS, over `background`
    /// (nil: the first `Map { background-color }` among the layers, else transparent).
    public static func styleSheet(_ layers: [(name: String, style: CartoStyle)], background: RenderColor? = nil) -> StyleSheet {
        var byName: [String: LayerStyle] = [:]
        for l in layers { byName[l.name] = l.style.layer }
        return StyleSheet(layers: byName, background: background ?? layers.lazy.compactMap(\.style.background).first)
    }

    init(layer: LayerStyle, background: RenderColor?, warnings: [String], layerNames: [String]) {
        self.layer = layer
        self.background = background
        self.warnings = warnings
        self.layerNames = layerNames
    }
}
