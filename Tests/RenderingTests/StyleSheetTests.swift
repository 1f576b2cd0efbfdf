import GeoModel
import Rendering
import Tiling
import XCTest

final class StyleSheetTests: XCTestCase {
    func testSimplestylePropertiesWinOverPaletteAndLayerRules() {
        let sheet = StyleSheet(layers: ["roads": LayerStyle(stroke: RenderColor(parsing: "#000")!, strokeWidth: 5)])
        let plain = sheet.style(layer: "roads", layerIndex: 0, kind: .line, properties: [])
        XCTAssertEqual(plain.stroke, RenderColor(r: 0, g: 0, b: 0))
        XCTAssertEqual(plain.strokeWidth, 5)
        let styled = sheet.style(layer: "roads", layerIndex: 0, kind: .line, properties: [
            ("stroke", .string("#ff0000")), ("stroke-width", .double(3.5)), ("stroke-opacity", .double(0.5)),
        ])
        XCTAssertEqual(styled.stroke, RenderColor(r: 255, g: 0, b: 0))
        XCTAssertEqual(styled.strokeWidth, 3.5)
        XCTAssertEqual(styled.strokeOpacity, 0.5)
        let point = sheet.style(layer: "pois", layerIndex: 2, kind: .point, properties: [("marker-color", .string("#0f0")), ("marker-size", .string("large"))])
        XCTAssertEqual(point.markerColor, RenderColor(r: 0, g: 255, b: 0))
        XCTAssertEqual(point.markerSize, .large)
        let polygon = sheet.style(layer: "areas", layerIndex: 1, kind: .polygon, properties: [("fill", .string("not a colour")), ("fill-opacity", .int(1))])
        XCTAssertEqual(polygon.fill, StyleSheet.defaultPalette[1], "an unparsable colour keeps the default")
        XCTAssertEqual(polygon.fillOpacity, 1)
    }

    func testConditionalRulesApplyInOrderOverThePalette() throws {
        let wide = try Expression.parse(.array([.string(">="), .array([.string("zoom")]), .int(5)]), path: "rule")
        let major = try Expression.parse(.array([.string("=="), .array([.string("get"), .string("class")]), .string("major")]), path: "rule")
        let sheet = StyleSheet(layers: ["roads": LayerStyle(strokeWidth: 1, rules: [
            StyleRule(filter: wide, style: LayerStyle(strokeWidth: 4)),
            StyleRule(filter: major, style: LayerStyle(stroke: .black, strokeWidth: 6)),
        ])])
        func style(_ cls: String, zoom: Double) -> FeatureStyle {
            let props = JSONObject([.init(key: "class", value: .string(cls))])
            return sheet.style(layer: "roads", layerIndex: 0, kind: .line, properties: [],
                               context: ExpressionContext(properties: props, id: nil, geometryType: "LineString", zoom: zoom))
        }
        XCTAssertEqual(style("minor", zoom: 4).strokeWidth, 1)
        XCTAssertEqual(style("minor", zoom: 4).stroke, StyleSheet.defaultPalette[0], "palette colour kept")
        XCTAssertEqual(style("minor", zoom: 5).strokeWidth, 4)
        XCTAssertEqual(style("major", zoom: 5).strokeWidth, 6, "the later rule wins")
        XCTAssertEqual(style("major", zoom: 1).stroke, .black)
        XCTAssertEqual(sheet.style(layer: "roads", layerIndex: 0, kind: .line, properties: []).strokeWidth, 1, "no context: no conditional rule applies")
    }

    func testColourParsing() {
        XCTAssertEqual(RenderColor(parsing: "#abc"), RenderColor(r: 0xAA, g: 0xBB, b: 0xCC))
        XCTAssertEqual(RenderColor(parsing: " #A0B1C2 "), RenderColor(r: 0xA0, g: 0xB1, b: 0xC2))
        XCTAssertEqual(RenderColor(parsing: "rgba(10, 20, 30, 0.5)"), RenderColor(r: 10, g: 20, b: 30, a: 128))
        XCTAssertEqual(RenderColor(parsing: "navy"), RenderColor(r: 0, g: 0, b: 128))
        XCTAssertNil(RenderColor(parsing: "#12345"))
        XCTAssertNil(RenderColor(parsing: "rgb(1,2)"))
        XCTAssertEqual(RenderColor(r: 1, g: 0xAB, b: 255).description, "#01abff")
    }
}
