import GeoModel
import XCTest
@testable import API

/// MapConfig, layer filters and named map templates: the CARTO request shapes, checked
/// without a daemon.
final class CartoConfigTests: XCTestCase {
    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    private func refusal(_ text: String) throws -> String? {
        do {
            _ = try MapConfig.parse(try json(text))
            return nil
        } catch let error as CartoRequestError {
            XCTAssertEqual(error.status, 400)
            return error.message
        }
    }

    func testMapConfigNormalisesAndHashesTheSameWhateverTheSpelling() throws {
        let a = try MapConfig.parse(try json(##"{"version":"1.3.0","maxzoom":"6","layers":[{"type":"cartodb","options":{"sql":"select * from x","cartocss":"#l{}","interactivity":"a, b","attributes":{"id":"cartodb_id","columns":["name"]}}},{"type":"plain","options":{"color":"#eee"}}],"api_key":"k","client":"cps-1"}"##))
        let b = try MapConfig.parse(try json(##"{"client":"other","layers":[{"options":{"cartocss":"#l{}","attributes":{"columns":["name"],"id":"cartodb_id"},"interactivity":["a","b"],"sql":"select * from x"},"type":"mapnik"},{"options":{"color":"#eee"},"type":"plain"}],"maxzoom":6,"version":"1.3.0"}"##))
        XCTAssertEqual(a, b)
        XCTAssertEqual(JSONWriter.string(a.json), JSONWriter.string(b.json))
        XCTAssertEqual(a.minzoom, 0)
        XCTAssertEqual(a.maxzoom, 6)
        XCTAssertEqual(a.layers[0].interactivity, ["a", "b"])
        XCTAssertEqual(a.layers[0].name(index: 0), "layer0")
        XCTAssertEqual(a.layers[1].kind, .plain)
        XCTAssertEqual(try MapConfig.parse(try a.json), a, "the stored form parses back to the same config")
    }

    func testMapConfigRefusesWhatCARTOWouldAndWhatIsTooLarge() throws {
        XCTAssertEqual(try refusal(#"{"layers":[]}"#), "Missing layers array from layergroup config")
        XCTAssertEqual(try refusal(#"{"version":"1.3.0"}"#), "Missing layers array from layergroup config")
        XCTAssertEqual(try refusal(#"{"layers":[{"options":{"cartocss":"* { line-width: 1; }"}}]}"#), "Missing sql for layer 0 options")
        XCTAssertEqual(try refusal(#"{"layers":[{"options":{"sql":"select * from x","cartocss":" "}}]}"#), "Missing cartocss for layer 0 options")
        XCTAssertEqual(try refusal(#"{"layers":[{"type":"torque","options":{"sql":"select * from x","cartocss":"* { line-width: 1; }"}}]}"#)?.hasPrefix("Unsupported layer type: torque"), true)
        XCTAssertEqual(try refusal(#"{"layers":[{"options":{"sql":5}}]}"#), "layer 0 options.sql must be a string, not number")
        XCTAssertEqual(try refusal(#"{"maxzoom":31,"layers":[{"options":{"sql":"select * from x","cartocss":"* { line-width: 1; }"}}]}"#), "maxzoom must be a zoom level from 0 to 30")
        XCTAssertEqual(try refusal(#"{"minzoom":5,"maxzoom":2,"layers":[{"options":{"sql":"select * from x","cartocss":"* { line-width: 1; }"}}]}"#), "minzoom (5) must not be greater than maxzoom (2)")
        XCTAssertEqual(try refusal(#"{"layers":[{"id":"a","options":{"sql":"select * from x","cartocss":"* { line-width: 1; }"}},{"id":"a","options":{"sql":"select * from y","cartocss":"* { line-width: 1; }"}}]}"#), "Layer 1: the layer id 'a' is used twice")
        XCTAssertEqual(try refusal(#"{"layers":[{"id":"a b","options":{"sql":"select * from x","cartocss":"* { line-width: 1; }"}}]}"#)?.contains("letters, digits"), true)
        XCTAssertEqual(try refusal("[1]"), "The MapConfig must be a JSON object")
        let many = "[" + Array(repeating: #"{"options":{"sql":"select * from x","cartocss":"* { line-width: 1; }"}}"#, count: 10_000).joined(separator: ",") + "]"
        XCTAssertEqual(try refusal(#"{"layers":\#(many)}"#), "The MapConfig has 10000 layers; at most 32 are allowed")
        let css = String(repeating: "#l { line-width: 1; } ", count: 50_000)
        XCTAssertEqual(try refusal(#"{"layers":[{"options":{"sql":"select * from x","cartocss":"\#(css)"}}]}"#)?.hasPrefix("Layer 0: the CartoCSS is"), true)
    }

    func testLayerFiltersAreOrderInsensitiveAndChecked() throws {
        XCTAssertEqual(try LayerFilter(parsing: "all", layerCount: 3).indices, [0, 1, 2])
        XCTAssertEqual(try LayerFilter(parsing: "2,0", layerCount: 3).indices, [0, 2])
        XCTAssertEqual(try LayerFilter(parsing: "1", layerCount: 3).key, "1")
        for bad in ["3", "-1", "0,0", "a", "", "0,", "1 ", "0,1,2,0", "00000001"] {
            XCTAssertThrowsError(try LayerFilter(parsing: bad, layerCount: 3), bad) { error in
                XCTAssertEqual((error as? CartoRequestError)?.message, "Invalid layer filtering")
            }
        }
    }

    private let template = #"""
        {"version":"0.0.1","name":"by_pop","auth":{"method":"token","valid_tokens":["t1"]},
         "placeholders":{"min":{"type":"number","default":5},"cont":{"type":"string","default":"Asia"},
                         "col":{"type":"sql_ident","default":"name"},"color":{"type":"css_color","default":"#f00"}},
         "layergroup":{"layers":[{"type":"cartodb","options":{"sql":"select <%= col %> from c where pop > <%= min %> and continent = '<%= cont %>'","cartocss":"#l { polygon-fill: <%=color%>; }"}}]}}
        """#

    func testNamedMapPlaceholdersAreTypedSoValuesCannotChangeTheSQL() throws {
        let t = try NamedMapTemplate.parse(try json(template))
        XCTAssertFalse(t.admits(nil))
        XCTAssertFalse(t.admits("t2"))
        XCTAssertTrue(t.admits("t1"))
        let defaults = try t.config(parameters: nil)
        XCTAssertEqual(defaults.layers[0].sql, "select name from c where pop > 5 and continent = 'Asia'")
        XCTAssertEqual(defaults.layers[0].cartocss, "#l { polygon-fill: #f00; }")
        let given = try t.config(parameters: try json(#"{"min":"1e6","cont":"Europe' OR '1'='1","color":"blue","unknown":1}"#).objectValue)
        XCTAssertEqual(given.layers[0].sql, "select name from c where pop > 1e6 and continent = 'Europe'' OR ''1''=''1'")
        for (name, value) in [("min", #""1; DROP TABLE c""#), ("min", #""1) OR (1=1""#), ("min", "true"), ("col", #""name, (select 1)""#),
                              ("col", #""1abc""#), ("color", #""red; line-width: 9""#), ("color", ##""#12345""##), ("cont", "[1]")] {
            XCTAssertThrowsError(try t.config(parameters: try json(#"{"\#(name)":\#(value)}"#).objectValue), "\(name)=\(value)") { error in
                XCTAssertEqual((error as? CartoRequestError)?.message, "Invalid value for placeholder '\(name)': it must be a \(t.placeholders[name]!.type.rawValue)")
            }
        }
        XCTAssertEqual(try NamedMapTemplate.parse(t.json), t, "the stored form parses back")
    }

    func testNamedMapTemplatesAreCheckedWhenCreated() throws {
        func refusal(_ text: String) -> String? {
            do { _ = try NamedMapTemplate.parse(try json(text)); return nil } catch { return (error as? CartoRequestError)?.message ?? "\(error)" }
        }
        let layers = #""layergroup":{"layers":[{"options":{"sql":"select * from c where a = <%= x %>","cartocss":"* { line-width: 1; }"}}]}"#
        XCTAssertEqual(refusal(#"{"name":"n",\#(layers)}"#), "Template uses the undeclared placeholder 'x'")
        XCTAssertEqual(refusal(#"{"name":"n","placeholders":{"x":{"type":"number"}},\#(layers)}"#), "Missing default for placeholder 'x'")
        XCTAssertEqual(refusal(#"{"name":"n","placeholders":{"x":{"type":"sql","default":1}},\#(layers)}"#)?.hasPrefix("Invalid placeholder type"), true)
        XCTAssertEqual(refusal(#"{"name":"n","placeholders":{"x":{"type":"number","default":"a"}},\#(layers)}"#), "Invalid value for placeholder 'x': it must be a number")
        XCTAssertEqual(refusal(#"{"name":"n","auth":{"method":"token"},"placeholders":{"x":{"type":"number","default":1}},\#(layers)}"#)?.hasPrefix("auth method token needs valid_tokens"), true)
        XCTAssertEqual(refusal(#"{"name":"../x","layergroup":{"layers":[]}}"#)?.hasPrefix("The template needs a name"), true)
        XCTAssertEqual(refusal(#"{"name":"n","placeholders":{"x":{"type":"number","default":1}},"layergroup":{"layers":[{"options":{"sql":"select * from c; drop table c","cartocss":"* { line-width: 1; }"}}]}}"#)?.hasPrefix("Layer 0:"), true)
        XCTAssertNil(refusal(#"{"name":"n","placeholders":{"x":{"type":"number","default":1}},\#(layers)}"#))
    }
}
