import Carto
import GeoModel
import Rendering
import Tiling
import XCTest

final class CartoStyleTests: XCTestCase {
    /// The resolved style of a feature with `properties` at `zoom`.
    func style(_ css: String, kind: StyleSheet.GeometryKind = .point, _ properties: [String: JSONValue] = [:], zoom: Double = 5,
               file: StaticString = #filePath, line: UInt = #line) -> FeatureStyle? {
        do {
            let carto = try CartoStyle.parse(css)
            let sheet = CartoStyle.styleSheet([("l", carto)])
            let props = JSONObject(properties.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })
            let context = ExpressionContext(properties: props, id: .int(1), geometryType: kind.expressionName, zoom: zoom)
            return sheet.style(layer: "l", layerIndex: 0, kind: kind, properties: [], context: context)
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    func error(_ css: String, file: StaticString = #filePath, line: UInt = #line) -> CartoError? {
        do {
            _ = try CartoStyle.parse(css)
            XCTFail("accepted \(css.prefix(80))", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    let red = RenderColor(r: 255, g: 0, b: 0)

    func testColours() throws {
        let forms: [(String, RenderColor)] = [
            ("red", red), ("#f00", red), ("#ff0000", red), ("#FF0000", red), ("rgb(255, 0, 0)", red),
            ("rgba(255, 0, 0, 0.5)", RenderColor(r: 255, g: 0, b: 0, a: 128)), ("navy", RenderColor(r: 0, g: 0, b: 128)),
            ("rgb(100%, 0%, 0%)", red),
        ]
        for (text, expected) in forms {
            XCTAssertEqual(style("#layer { marker-fill: \(text); }")?.markerColor, expected, text)
        }
        XCTAssertEqual(try CartoStyle.parse("Map { background-color: #0a0b0c; }").background, RenderColor(r: 10, g: 11, b: 12))
        XCTAssertEqual(style("@c: #123; @w: 7; #layer { marker-fill: @c; marker-width: @w }")?.markerColor, RenderColor(r: 0x11, g: 0x22, b: 0x33))
    }

    func testPropertiesMapToTheStyleModel() throws {
        let css = """
        #layer {
          marker-fill: red; marker-width: 14px; marker-line-color: blue; marker-line-width: 2; marker-opacity: 0.5;
          line-color: #00ff00; line-width: 3; line-opacity: 0.25;
          polygon-fill: yellow; polygon-opacity: 0.75;
        }
        """
        let point = try XCTUnwrap(style(css, kind: .point))
        XCTAssertEqual(point.markerColor, red)
        XCTAssertEqual(point.markerDiameter, 14)
        XCTAssertEqual(point.markerOutline, RenderColor(r: 0, g: 0, b: 255))
        XCTAssertEqual(point.markerOutlineWidth, 2)
        XCTAssertEqual(point.markerOpacity, 0.5)
        XCTAssertNil(point.fill)
        XCTAssertNil(point.stroke)
        let line = try XCTUnwrap(style(css, kind: .line))
        XCTAssertEqual(line.stroke, RenderColor(r: 0, g: 255, b: 0))
        XCTAssertEqual(line.strokeWidth, 3)
        XCTAssertEqual(line.strokeOpacity, 0.25)
        XCTAssertNil(line.fill, "polygon-fill does not fill lines")
        XCTAssertNil(line.markerColor)
        let polygon = try XCTUnwrap(style(css, kind: .polygon))
        XCTAssertEqual(polygon.fill, RenderColor(r: 255, g: 255, b: 0))
        XCTAssertEqual(polygon.fillOpacity, 0.75)
        XCTAssertEqual(polygon.stroke, RenderColor(r: 0, g: 255, b: 0))
    }

    func testOnlyStyledSymbolizersAreDrawnWithMapnikDefaults() throws {
        let polygon = try XCTUnwrap(style("#l { polygon-opacity: 0.5 }", kind: .polygon))
        XCTAssertEqual(polygon.fill, RenderColor(r: 128, g: 128, b: 128), "Mapnik's default polygon-fill")
        XCTAssertNil(polygon.stroke, "no line-* values, no outline")
        let outline = try XCTUnwrap(style("#l { line-width: 2 }", kind: .polygon))
        XCTAssertNil(outline.fill)
        XCTAssertEqual(outline.stroke, .black)
        let point = try XCTUnwrap(style("#l { line-color: red }", kind: .point))
        XCTAssertNil(point.markerColor, "a point without marker-* values is not drawn")
        let marker = try XCTUnwrap(style("#l { marker-opacity: 1 }", kind: .point))
        XCTAssertEqual(marker.markerColor, RenderColor(r: 0, g: 0, b: 255))
        XCTAssertEqual(marker.markerDiameter, 10)
    }

    func testFiltersAndZoom() throws {
        let css = """
        #layer {
          marker-fill: red;
          [type = 'city'] { marker-fill: blue; }
          [pop > 1000000] { marker-width: 20; }
          [pop >= 10][pop < 100] { marker-width: 4; }
          [pop <= 5] { marker-width: 3; }
          [name != "x"][zoom >= 6] { marker-fill: green; }
          [zoom < 3] { marker-opacity: 0.5; }
          [capital = true] { marker-line-color: yellow; }
          [river = null] { marker-line-width: 3; }
          [height > -10.5] { marker-line-width: 1; }
        }
        """
        XCTAssertEqual(style(css, ["type": .string("city")])?.markerColor, RenderColor(r: 0, g: 0, b: 255))
        XCTAssertEqual(style(css, ["type": .string("town")])?.markerColor, red)
        XCTAssertEqual(style(css, ["pop": .int(2_000_000)])?.markerDiameter, 20)
        XCTAssertEqual(style(css, ["pop": .int(50)])?.markerDiameter, 4)
        XCTAssertEqual(style(css, ["pop": .int(100)])?.markerDiameter, 10)
        XCTAssertEqual(style(css, ["pop": .double(5)])?.markerDiameter, 3)
        XCTAssertEqual(style(css, ["name": .string("y")], zoom: 6)?.markerColor, RenderColor(r: 0, g: 128, b: 0))
        XCTAssertEqual(style(css, ["name": .string("x")], zoom: 6)?.markerColor, red)
        XCTAssertEqual(style(css, ["name": .string("y")], zoom: 5)?.markerColor, red, "zoom filter not met")
        XCTAssertEqual(style(css, [:], zoom: 2)?.markerOpacity, 0.5)
        XCTAssertEqual(style(css, [:], zoom: 3)?.markerOpacity, 1)
        XCTAssertEqual(style(css, ["capital": .bool(true)])?.markerOutline, RenderColor(r: 255, g: 255, b: 0))
        XCTAssertEqual(style(css, ["river": .string("Po")])?.markerOutlineWidth, 0.5)
        XCTAssertEqual(style(css, [:])?.markerOutlineWidth, 3, "[river = null] matches a missing property")
        XCTAssertEqual(style(css, ["height": .int(-3), "river": .string("Po")])?.markerOutlineWidth, 1)
    }

    /// The generic CARTO style: one block per geometry type, selected by Mapnik's type number,
    /// with symbolizer instances and the fill/line opacities Builder writes.
    func testGeometryTypeFiltersInstancesAndMarkerOpacities() throws {
        let css = """
        #layer['mapnik::geometry_type'=1] { marker-width: 7; marker-fill: #FFB927; marker-fill-opacity: 0.9; marker-line-opacity: 0.5; }
        #layer[mapnik::geometry_type=2] { line-color: #3EBCAE; line-width: 1.5; }
        #layer['mapnik::geometry_type'=3] { polygon-fill: #374C70; polygon-gamma: 0.5; }
        #layer[mapnik::geometry_type >= 2] { glow/line-opacity: 0.5; }
        """
        let point = try XCTUnwrap(style(css, kind: .point))
        XCTAssertEqual(point.markerDiameter, 7)
        XCTAssertEqual(point.markerFillOpacity, 0.9)
        XCTAssertEqual(point.markerOutlineOpacity, 0.5)
        XCTAssertNil(point.stroke)
        let line = try XCTUnwrap(style(css, kind: .line))
        XCTAssertEqual(line.stroke, RenderColor(parsing: "#3EBCAE"))
        XCTAssertEqual(line.strokeOpacity, 0.5, "the instance's value, merged")
        XCTAssertNil(line.markerColor)
        let polygon = try XCTUnwrap(style(css, kind: .polygon))
        XCTAssertEqual(polygon.fill, RenderColor(parsing: "#374C70"))
        XCTAssertEqual(polygon.stroke, .black, "line-opacity styles the outline, with Mapnik's default colour")
        let warnings = try CartoStyle.parse(css).warnings
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings.contains { $0.contains("`polygon-gamma` is not supported") })
        XCTAssertTrue(warnings.contains { $0.hasPrefix("line 4, column 38: symbolizer instances (`glow/`)") }, "\(warnings)")
        XCTAssertTrue(try XCTUnwrap(error("#l[mapnik::foo = 1] { marker-fill: red; }")).message.contains("only mapnik::geometry_type"))
    }

    func testOverrideOrder() throws {
        // Equally specific: the later rule wins.
        XCTAssertEqual(style("#l { marker-fill: red; } #l { marker-fill: blue; }")?.markerColor, RenderColor(r: 0, g: 0, b: 255))
        XCTAssertEqual(style("#l { [a = 1] { marker-fill: red; } [b = 1] { marker-fill: blue; } }", ["a": .int(1), "b": .int(1)])?.markerColor,
                       RenderColor(r: 0, g: 0, b: 255))
        XCTAssertEqual(style("#l { [b = 1] { marker-fill: blue; } [a = 1] { marker-fill: red; } }", ["a": .int(1), "b": .int(1)])?.markerColor, red)
        // More specific wins even when written first, as in CartoCSS.
        XCTAssertEqual(style("#l { [a = 1] { marker-fill: red; } marker-fill: blue; }", ["a": .int(1)])?.markerColor, red)
        XCTAssertEqual(style("#l { [a = 1] { marker-fill: red; } marker-fill: blue; }", ["a": .int(2)])?.markerColor, RenderColor(r: 0, g: 0, b: 255))
        // Values merge one by one: the filtered rule changes the width, the colour stays.
        let merged = try XCTUnwrap(style("#l { marker-fill: red; marker-width: 5; [zoom >= 4] { marker-width: 9; } }", zoom: 4))
        XCTAssertEqual(merged.markerColor, red)
        XCTAssertEqual(merged.markerDiameter, 9)
        // Selector lists apply the block to each.
        XCTAssertEqual(style("#a, #l [x = 1] { marker-fill: red; }", ["x": .int(2)])?.markerColor, red, "#a applies: ids are not matched, as in CARTO")
    }

    func testWarnings() throws {
        let carto = try CartoStyle.parse("""
        Map { background-color: white; buffer-size: 256; }
        #layer {
          marker-fill: red;
          marker-allow-overlap: true;
          line-dasharray: 2, 3;
        }
        #other::glow { line-color: red; }
        """)
        XCTAssertEqual(carto.warnings.count, 5, "\(carto.warnings)")
        XCTAssertTrue(carto.warnings[0].hasPrefix("line 1, column 32: `buffer-size` is not supported in `Map`"), carto.warnings[0])
        XCTAssertTrue(carto.warnings[1].hasPrefix("line 4, column 3: `marker-allow-overlap` is not supported and was ignored"), carto.warnings[1])
        XCTAssertTrue(carto.warnings[2].hasPrefix("line 5, column 3: `line-dasharray`"), carto.warnings[2])
        XCTAssertTrue(carto.warnings.contains { $0.contains("attachments (`::glow`)") })
        XCTAssertTrue(carto.warnings.contains { $0.contains("#layer, #other") })
        XCTAssertEqual(carto.layerNames, ["layer", "other"])
        XCTAssertEqual(carto.background, .white)
        let many = try CartoStyle.parse("#l { " + String(repeating: "foo: 1; ", count: 500) + "}")
        XCTAssertEqual(many.warnings.count, CartoStyle.maxWarnings + 1)
        XCTAssertEqual(many.warnings.last, "… and 450 more warnings")
    }

    func testSyntaxErrorsHaveLineAndColumn() throws {
        RefusalCase.check([
            RefusalCase("#layer {\n  marker-fill: red\n  marker-width: 3;\n}", "expected `;` after the value of `marker-fill`", 3, 3),
            RefusalCase("#layer { marker-fill: red;", "expected `}` to close the block", 1, 27),
            RefusalCase("#layer { marker-fill: nocolour; }", "is not a colour name", 1, 23),
            RefusalCase("#layer { marker-fill: #12345; }", "`#12345` is not a colour", 1, 23),
            RefusalCase("#layer { marker-fill: lighten(red, 10%); }", "`lighten()` is not supported", 1, 23),
            RefusalCase("#layer { marker-width: 1000; }", "must be from 0 to 256, found 1000", 1, 24),
            RefusalCase("#layer { marker-opacity: -1; }", "must be from 0 to 1, found -1", 1, 26),
            RefusalCase("#layer { marker-width: big; }", "expects a number", 1, 24),
            RefusalCase("#layer { marker-fill: @missing; }", "@missing is not defined", 1, 23),
            RefusalCase("#layer [name =~ '.*'] { marker-fill: red; }", "regular-expression filters", 1, 14),
            RefusalCase("#layer [zoom > 40] { marker-fill: red; }", "zoom filter compares with a number from 0 to 30", 1, 16),
            RefusalCase("#layer [name = 'x' { marker-fill: red; }", "expected `]`", 1, 20),
            RefusalCase(".class { marker-fill: red; }", "class selectors", 1, 1),
            RefusalCase("marker-fill: red;", "must be inside a selector block", 1, 1),
            RefusalCase("#a { #b { marker-fill: red; } }", "selects nothing", 1, 6),
            RefusalCase("#layer { marker-fill: 'red }", "unterminated string", 1, 23),
            RefusalCase("#layer { /* open", "unterminated comment", 1, 10),
            RefusalCase("#layer { marker-fill: red; } $", "unexpected character `$`", 1, 30),
            RefusalCase("// comment\n/* block\ncomment */ #layer { marker-fill red; }", "expected `:` after the property `marker-fill`", 3, 33),
        ]) { (text: String) throws(CartoError) in _ = try CartoStyle.parse(text) }
    }

    func testHostileSizesAreRefused() throws {
        let big = try XCTUnwrap(error("#l { marker-fill: red; }\n" + String(repeating: "/* padding */\n", count: 80_000)))
        XCTAssertTrue(big.message.contains("at most 262144 bytes"), big.message)
        XCTAssertNil(big.line)
        let deep = try XCTUnwrap(error(String(repeating: "[a = 1] { ", count: 10_000) + String(repeating: "}", count: 10_000)))
        XCTAssertTrue(deep.message.contains("nest deeper than 16"), deep.message)
        let rules = try XCTUnwrap(error(String(repeating: "#l [a = 1] { marker-width: 1; }\n", count: 3_000)))
        XCTAssertTrue(rules.message.contains("more than 2000 rule blocks"), rules.message)
        let product = try XCTUnwrap(error("#a, #b, #c, #d, #e, #f, #g, #h { " + String(repeating: "[a=1], [b=1], [c=1], [d=1], [e=1], [f=1], [g=1], [h=1] { ", count: 4) + String(repeating: "}", count: 5)))
        XCTAssertTrue(product.message.contains("rule blocks"), product.message)
        var doubling = "@v0: 1;"
        for i in 1...30 { doubling += " @v\(i): @v\(i - 1), @v\(i - 1);" }
        XCTAssertTrue(try XCTUnwrap(error(doubling)).message.contains("longer than 64 tokens"))
    }

    /// Draws a tile with a CartoCSS style and checks the colours where each feature lies.
    func testRenderingWithCartoCSS() throws {
        var polygons = MVTLayerBuilder(name: "countries")
        func square(_ x: Int32, _ y: Int32, _ s: Int32) -> [UInt32] {
            MVTGeometry.encodePolygons([[[TilePoint(x: x, y: y), TilePoint(x: x, y: y + s), TilePoint(x: x + s, y: y + s), TilePoint(x: x + s, y: y)]]])
        }
        polygons.addFeature(id: 1, type: .polygon, geometry: square(256, 256, 1536), properties: [("continent", .string("Europe")), ("pop", .uint(67))])
        polygons.addFeature(id: 2, type: .polygon, geometry: square(2304, 256, 1536), properties: [("continent", .string("Africa")), ("pop", .uint(17))])
        var rivers = MVTLayerBuilder(name: "rivers")
        rivers.addFeature(id: 3, type: .lineString, geometry: MVTGeometry.encodeLines([[TilePoint(x: 0, y: 3072), TilePoint(x: 4096, y: 3072)]]),
                          properties: [("name", .string("Po"))])
        var places = MVTLayerBuilder(name: "places")
        places.addFeature(id: 4, type: .point, geometry: MVTGeometry.encodePoints([TilePoint(x: 1024, y: 3584)]), properties: [("pop", .uint(5_000_000))])
        places.addFeature(id: 5, type: .point, geometry: MVTGeometry.encodePoints([TilePoint(x: 3072, y: 3584)]), properties: [("pop", .uint(10))])
        let tile = try MVTTile(decoding: MVTTileEncoder.encode([polygons, rivers, places]))

        let countries = try CartoStyle.parse("""
        Map { background-color: #ffffff; }
        #countries { polygon-fill: #ff0000; [continent = 'Africa'] { polygon-fill: #00ff00; } [zoom >= 6] { polygon-fill: #000000; } }
        """)
        let riverStyle = try CartoStyle.parse("#rivers { line-color: #0000ff; line-width: 8; [zoom < 3] { line-width: 1; } }")
        let placeStyle = try CartoStyle.parse("#places { marker-fill: #ff00ff; marker-width: 6; marker-line-width: 0; [pop > 1000000] { marker-width: 24; } }")
        let sheet = CartoStyle.styleSheet([("countries", countries), ("rivers", riverStyle), ("places", placeStyle)])
        let renderer = TileRenderer(style: sheet, layerOrder: ["countries", "rivers", "places"])
        let canvas = renderer.render(tile, size: 256, zoom: 5)
        let rgb = canvas.rgb()
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(rgb[(y * 256 + x) * 3..<(y * 256 + x) * 3 + 3]) }
        XCTAssertEqual(pixel(64, 64), [255, 0, 0], "Europe: the layer's fill")
        XCTAssertEqual(pixel(192, 64), [0, 255, 0], "Africa: the filtered rule")
        XCTAssertEqual(pixel(128, 8), [255, 255, 255], "Map background between features")
        XCTAssertEqual(pixel(128, 192), [0, 0, 255], "the river, 8 px wide")
        XCTAssertEqual(pixel(128, 188), [0, 0, 255])
        XCTAssertEqual(pixel(128, 183), [255, 255, 255], "beyond the river's half width")
        XCTAssertEqual(pixel(64, 224), [255, 0, 255], "the big city's marker")
        XCTAssertEqual(pixel(64 + 10, 224), [255, 0, 255], "24 px wide")
        XCTAssertEqual(pixel(192 + 10, 224), [255, 255, 255], "the small place's marker is 6 px")
        XCTAssertEqual(pixel(192, 224), [255, 0, 255])
        XCTAssertEqual(pixel(64, 120), [255, 255, 255], "no outline: polygons have no line-* values")

        let zoomed = renderer.render(tile, size: 256, zoom: 6).rgb()
        XCTAssertEqual(Array(zoomed[(64 * 256 + 192) * 3..<(64 * 256 + 192) * 3 + 3]), [0, 0, 0], "the zoom rule wins over the continent rule at z6")
        let far = renderer.render(tile, size: 256, zoom: 2).rgb()
        XCTAssertEqual(Array(far[(188 * 256 + 128) * 3..<(188 * 256 + 128) * 3 + 3]), [255, 255, 255], "the river is 1 px wide below z3")

        if let dir = ProcessInfo.processInfo.environment["CARTO_TEST_PNG_DIR"] {
            let png = PNGEncoder().encodeRGBA(canvas.straightRGBA(), width: 256, height: 256)
            FileManager.default.createFile(atPath: dir + "/carto-style.png", contents: Data(png))
        }
    }
}
