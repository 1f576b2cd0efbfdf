import XCTest
@testable import Formats
import GeoModel

final class GeoJSONReaderTests: XCTestCase {
    func testFeatureCollectionStreamsFeaturesInOrder() throws {
        let text = """
        {"type":"FeatureCollection","name":"x","features":[
          {"type":"Feature","id":7,"properties":{"name":"a","n":{"deep":[1,2.5]}},"geometry":{"type":"Point","coordinates":[1,2]}},
          {"type":"Feature","id":"s","properties":null,"geometry":{"type":"LineString","coordinates":[[0,0],[1,1,5]]}},
          {"type":"Feature","properties":{},"geometry":null}
        ]}
        """
        let (features, reader) = try TestSupport.readAll(name: "a.geojson", text: text)
        XCTAssertEqual(reader.format, .geojson)
        XCTAssertEqual(features.count, 3)
        XCTAssertEqual(features[0].id, .int(7))
        XCTAssertEqual(features[0].geometry, .point(Position(lon: 1, lat: 2)))
        XCTAssertEqual(features[0].properties["n"], ["deep": [1, 2.5]])
        XCTAssertEqual(features[1].id, .string("s"))
        XCTAssertEqual(features[1].geometry, .lineString([Position(lon: 0, lat: 0), Position(lon: 1, lat: 1, alt: 5)]))
        XCTAssertNil(features[2].geometry)
        XCTAssertTrue(reader.warnings.isEmpty, "\(reader.warnings)")
    }

    func testMembersAfterFeaturesAndBOM() throws {
        let text = "\u{FEFF}{\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[3,4]}}],\"type\":\"FeatureCollection\",\"bbox\":[3,4,3,4]}"
        let (features, _) = try TestSupport.readAll(name: "b.geojson", text: text)
        XCTAssertEqual(features.map(\.geometry), [.point(Position(lon: 3, lat: 4))])
    }

    func testLoneFeatureAndBareGeometries() throws {
        let (f1, _) = try TestSupport.readAll(name: "f.json", text: #"{"properties":{"k":"v"},"geometry":{"type":"Point","coordinates":[5,6]},"type":"Feature"}"#)
        XCTAssertEqual(f1.count, 1)
        XCTAssertEqual(f1[0].properties["k"], "v")
        let (f2, _) = try TestSupport.readAll(name: "g.json", text: #"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,1]},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}]}"#)
        guard case .geometryCollection(let parts)? = f2.first?.geometry else { return XCTFail("expected a GeometryCollection") }
        XCTAssertEqual(parts.count, 2)
    }

    func testLineDelimitedVariants() throws {
        let line = #"{"type":"Feature","properties":{"i":1},"geometry":{"type":"Point","coordinates":[1,2]}}"#
        let (nd, r1) = try TestSupport.readAll(name: "x.json", text: line + "\n" + line + "\n\n" + line)
        XCTAssertEqual(nd.count, 3)
        XCTAssertEqual(r1.format, .geojsonSeq)
        let (rs, r2) = try TestSupport.readAll(name: "x.geojsons", text: "\u{1E}" + line + "\n\u{1E}" + line + "\n")
        XCTAssertEqual(rs.count, 2)
        XCTAssertEqual(r2.format, .geojsonSeq)
    }

    func testInvalidFeaturesAreSkippedWithPositions() throws {
        let text = """
        {"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":["no","no"]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[200,95]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,1]}}
        ]}
        """
        let (features, reader) = try TestSupport.readAll(name: "bad.geojson", text: text)
        XCTAssertEqual(features.count, 2)
        XCTAssertEqual(features[0].geometry, .polygon([[Position(lon: 0, lat: 0), Position(lon: 1, lat: 0), Position(lon: 1, lat: 1), Position(lon: 0, lat: 1), Position(lon: 0, lat: 0)]]))
        let messages = reader.warnings.map(\.message)
        XCTAssertEqual(messages.count, 4, "\(messages)")
        XCTAssertTrue(messages[0].hasPrefix("feature 0 (line 2): coordinates must be numbers"), messages[0])
        XCTAssertTrue(messages[1].hasPrefix("feature 1 (line 3): a polygon ring needs at least 4"), messages[1])
        XCTAssertTrue(messages[2].hasPrefix("feature 2 (line 4): coordinate [200.0, 95.0] is out of range"), messages[2])
        XCTAssertTrue(messages[3].hasPrefix("feature 3 (line 5): unclosed polygon ring closed"), messages[3])
    }

    func testMalformedJSONNamesFileLineAndColumn() throws {
        let path = try TestSupport.tempFile("broken.geojson", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"properties\":{\"a\":tru},\"geometry\":null}]}")
        XCTAssertThrowsError(try TestSupport.readAll(path)) { error in
            guard case let FormatError.malformed(file, line, column, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, path)
            XCTAssertEqual(line, 2)
            XCTAssertEqual(column, 37)
        }
    }

    func testTruncatedFileFails() throws {
        let path = try TestSupport.tempFile("t.geojson", #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}},{"type":"Fea"#)
        let reader = try FeatureReaders.open(path: path)
        XCTAssertNotNil(try reader.next())
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
    }

    func testRefusesEmptyNonGeoJSONAndForeignCRS() throws {
        XCTAssertThrowsError(try TestSupport.readAll(name: "e.geojson", text: "")) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        XCTAssertThrowsError(try TestSupport.readAll(name: "s.geojson", text: #""just a string""#)) { XCTAssertTrue("\($0)".contains("not GeoJSON"), "\($0)") }
        XCTAssertThrowsError(try TestSupport.readAll(name: "a.geojson", text: "[1,2]")) { XCTAssertTrue("\($0)".contains("array"), "\($0)") }
        let crs = #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[]}"#
        XCTAssertThrowsError(try TestSupport.readAll(name: "c.geojson", text: crs)) { XCTAssertTrue("\($0)".contains("EPSG::3857"), "\($0)") }
        let ok = #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[]}"#
        XCTAssertEqual(try TestSupport.readAll(name: "c84.geojson", text: ok).0.count, 0)
        XCTAssertThrowsError(try TestSupport.readAll(name: "fo.geojson", text: #"{"type":"FeatureCollection","features":{}}"#)) { XCTAssertTrue("\($0)".contains("must be an array"), "\($0)") }
    }

    func testDeepNestingAndHugeNumbersFailClearly() throws {
        let deep = #"{"type":"FeatureCollection","features":["# + String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000) + "]}"
        XCTAssertThrowsError(try TestSupport.readAll(name: "d.geojson", text: deep)) { XCTAssertTrue("\($0)".contains("nested deeper"), "\($0)") }
        let huge = #"{"type":"Feature","properties":{"x":1e999},"geometry":null}"#
        XCTAssertThrowsError(try TestSupport.readAll(name: "h.geojson", text: huge)) { XCTAssertTrue("\($0)".contains("too large"), "\($0)") }
        let badUTF8: [UInt8] = Array(#"{"type":"Feature","properties":{"x":""#.utf8) + [0xC3, 0x28] + Array(#""},"geometry":null}"#.utf8)
        XCTAssertThrowsError(try TestSupport.readAll(try TestSupport.tempFile("u.geojson", badUTF8))) { XCTAssertTrue("\($0)".contains("UTF-8"), "\($0)") }
    }

    func testFeatureLargerThanLimitFails() throws {
        let coords = (0..<2000).map { "[\($0 % 180),1]" }.joined(separator: ",")
        let text = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":["# + coords + "]}}]}"
        let path = try TestSupport.tempFile("big.geojson", text)
        XCTAssertEqual(try TestSupport.readAll(path).0.count, 1)
        var limits = ReaderLimits()
        limits.maxFeatureBytes = 4096
        XCTAssertThrowsError(try TestSupport.readAll(path, limits: limits)) { error in
            guard case FormatError.limitExceeded = error else { return XCTFail("\(error)") }
        }
    }

    func testWarningsAreCappedButCounted() throws {
        let bad = (0..<500).map { _ in #"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[500,1]}}"# }
        let good = #"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[5,1]}}"#
        let path = try TestSupport.tempFile("many-bad.geojson", #"{"type":"FeatureCollection","features":["# + (bad + [good]).joined(separator: ",") + "]}")
        var limits = ReaderLimits()
        limits.maxWarnings = 10
        let (features, reader) = try TestSupport.readAll(path, limits: limits)
        XCTAssertEqual(features.count, 1)
        XCTAssertEqual(reader.warnings.count, 11, "10 kept in full plus a summary")
        XCTAssertTrue(reader.warnings.last!.message.contains("490 more warnings (500 in all"), reader.warnings.last!.message)
    }

    func testMapHubGroups() throws {
        let text = #"{"type":"FeatureCollection","groups":[{"title":"Test group","id":12345}],"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[23.45,34.56]},"properties":{"title":"Test point","group":12345}}]}"#
        let (features, reader) = try TestSupport.readAll(name: "m.geojson", text: text)
        XCTAssertEqual(reader.groups, [FeatureGroup(id: 12345, title: "Test group")])
        XCTAssertEqual(FeatureGroup.id(of: features[0]), 12345)
    }

    /// Features far apart in a file bigger than the read chunk: exercises window refills.
    func testStreamsAcrossChunkBoundaries() throws {
        var text = #"{"type":"FeatureCollection","features":["#
        let n = 30_000
        for i in 0..<n {
            if i > 0 { text += ",\n" }
            text += #"{"type":"Feature","properties":{"i":\#(i),"s":"x\"y\\z"},"geometry":{"type":"Point","coordinates":[\#(Double(i % 360) - 180.0),\#(Double(i % 180) - 90.0)]}}"#
        }
        text += "]}"
        let path = try TestSupport.tempFile("many.geojson", text)
        let reader = try FeatureReaders.open(path: path)
        var count = 0
        while let f = try reader.next() {
            XCTAssertEqual(f.properties["i"], .int(Int64(count)))
            count += 1
        }
        XCTAssertEqual(count, n)
        XCTAssertEqual(reader.bytesRead, text.utf8.count)
        XCTAssertTrue(reader.warnings.isEmpty)
    }
}
