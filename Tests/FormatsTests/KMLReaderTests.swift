import XCTest
@testable import Formats
import GeoModel

final class KMLReaderTests: XCTestCase {
    func testFoldersBecomeGroupsAndPrefixedKML() throws {
        let kml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <kml:kml xmlns:kml="http://www.opengis.net/kml/2.2"><kml:Document><kml:name>Doc</kml:name>
          <kml:Folder><kml:name>Outer</kml:name>
            <kml:Placemark id="p1"><kml:name>A &amp; B</kml:name><kml:Point><kml:coordinates>
               1.5,2.5,10
            </kml:coordinates></kml:Point></kml:Placemark>
            <kml:Folder><kml:name>Inner</kml:name>
              <kml:Placemark><kml:LineString><kml:coordinates>0,0 1, 1
              2,2</kml:coordinates></kml:LineString></kml:Placemark>
            </kml:Folder>
          </kml:Folder>
          <kml:Placemark><kml:MultiGeometry><kml:Point><kml:coordinates>1,1</kml:coordinates></kml:Point><kml:Point><kml:coordinates>2,2</kml:coordinates></kml:Point></kml:MultiGeometry></kml:Placemark>
        </kml:Document></kml:kml>
        """
        let (features, reader) = try TestSupport.readAll(name: "f.kml", text: kml)
        XCTAssertEqual(reader.format, .kml)
        XCTAssertEqual(features.count, 3)
        XCTAssertEqual(features[0].id, "p1")
        XCTAssertEqual(features[0].properties["name"], "A & B")
        XCTAssertEqual(features[0].geometry, .point(Position(lon: 1.5, lat: 2.5, alt: 10)))
        XCTAssertEqual(features[0].properties["@folder"], "Outer")
        XCTAssertEqual(features[1].properties["@folder"], "Outer / Inner")
        XCTAssertEqual(features[1].geometry, .lineString([Position(lon: 0, lat: 0), Position(lon: 1, lat: 1), Position(lon: 2, lat: 2)]))
        XCTAssertNil(features[2].properties["@folder"])
        XCTAssertEqual(features[2].geometry, .multiPoint([Position(lon: 1, lat: 1), Position(lon: 2, lat: 2)]))
        XCTAssertEqual(reader.groups.map(\.title), ["Outer", "Outer / Inner"])
        XCTAssertEqual(FeatureGroup.id(of: features[1]), "Outer / Inner")
    }

    func testBrokenPlacemarksAreSkippedWithWarnings() throws {
        let kml = """
        <kml><Document>
        <Placemark><name>bad</name><Point><coordinates>no,no</coordinates></Point></Placemark>
        <Placemark><name>range</name><Point><coordinates>10,95</coordinates></Point></Placemark>
        <Placemark><name>ring</name><Polygon><outerBoundaryIs><LinearRing><coordinates>0,0 1,1 0,0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
        <Placemark><name>ok</name><Point><coordinates>10,20</coordinates></Point></Placemark>
        </Document></kml>
        """
        let (features, reader) = try TestSupport.readAll(name: "b.kml", text: kml)
        XCTAssertEqual(features.map { $0.properties["name"] }, ["ok"])
        XCTAssertEqual(reader.warnings.count, 3)
        XCTAssertTrue(reader.warnings[0].message.hasPrefix("feature 0 (line 2): <Placemark> non-numeric coordinate \"no\""), reader.warnings[0].message)
        XCTAssertTrue(reader.warnings[1].message.contains("out of range"))
        XCTAssertTrue(reader.warnings[2].message.contains("at least 4 positions"))
    }

    func testBillionLaughsAndExternalEntitiesFailFast() throws {
        var lol = "<?xml version=\"1.0\"?>\n<!DOCTYPE kml [\n<!ENTITY lol \"lol\">\n"
        for i in 1...9 { lol += "<!ENTITY lol\(i) \"" + String(repeating: "&lol\(i - 1 == 0 ? "" : String(i - 1));", count: 10) + "\">\n" }
        lol += "]>\n<kml><Placemark><name>&lol9;</name></Placemark></kml>"
        let start = DispatchTime.now()
        XCTAssertThrowsError(try TestSupport.readAll(name: "lol.kml", text: lol)) { error in
            XCTAssertTrue("\(error)".contains("never expands"), "\(error)")
        }
        XCTAssertLessThan(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds, 1_000_000_000)
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE kml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><kml><Placemark><name>&xxe;</name></Placemark></kml>"
        XCTAssertThrowsError(try TestSupport.readAll(name: "xxe.kml", text: xxe))
        XCTAssertThrowsError(try TestSupport.readAll(name: "undef.kml", text: "<kml><Placemark><name>&nbsp;</name></Placemark></kml>")) { error in
            XCTAssertTrue("\(error)".contains("undefined entity &nbsp;"), "\(error)")
        }
    }

    func testMalformedXMLNamesLineAndColumn() throws {
        let path = try TestSupport.tempFile("t.kml", "<kml>\n<Placemark>\n<name>x</nam>\n</Placemark></kml>")
        XCTAssertThrowsError(try TestSupport.readAll(path)) { error in
            guard case let FormatError.malformed(_, line, _, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 3)
            XCTAssertTrue(message.contains("does not match"), message)
        }
        XCTAssertThrowsError(try TestSupport.readAll(name: "trunc.kml", text: "<kml><Document><Placemark><name>x</name>")) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        let bad: [UInt8] = Array("<kml><Placemark><name>".utf8) + [0xFF, 0xFE] + Array("</name></Placemark></kml>".utf8)
        XCTAssertThrowsError(try TestSupport.readAll(try TestSupport.tempFile("u.kml", bad))) { error in
            XCTAssertTrue("\(error)".contains("invalid UTF-8"), "\(error)")
        }
    }

    func testLatin1DeclaredDocumentIsTranscoded() throws {
        let bytes: [UInt8] = Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><kml><Placemark><name>Z".utf8) + [0xFC] + Array("rich</name><Point><coordinates>8.5,47.4</coordinates></Point></Placemark></kml>".utf8)
        let (features, _) = try TestSupport.readAll(try TestSupport.tempFile("l.kml", bytes))
        XCTAssertEqual(features.first?.properties["name"], "Zürich")
    }

    func testStylesAndExtendedData() throws {
        let kml = """
        <kml xmlns="http://www.opengis.net/kml/2.2"><Document>
        <Schema id="s"><SimpleField name="pop" type="int"/></Schema>
        <Style id="red"><LineStyle><color>7f0000ff</color><width>3</width></LineStyle></Style>
        <StyleMap id="m"><Pair><key>normal</key><styleUrl>#red</styleUrl></Pair><Pair><key>highlight</key><styleUrl>#x</styleUrl></Pair></StyleMap>
        <Placemark><styleUrl>#m</styleUrl><TimeStamp><when>2020-01-01</when></TimeStamp>
          <ExtendedData><Data name="kind"><value>road</value></Data><SchemaData schemaUrl="#s"><SimpleData name="pop">42</SimpleData></SchemaData></ExtendedData>
          <LineString><coordinates>0,0 1,1</coordinates></LineString></Placemark>
        </Document></kml>
        """
        let (features, _) = try TestSupport.readAll(name: "s.kml", text: kml)
        let p = features[0].properties
        XCTAssertEqual(p["styleUrl"], "#m")
        XCTAssertEqual(p["stroke"], "#ff0000")
        XCTAssertEqual(p["stroke-opacity"]?.doubleValue ?? 0, 127.0 / 255, accuracy: 1e-12)
        XCTAssertEqual(p["stroke-width"], 3)
        XCTAssertEqual(p["kind"], "road")
        XCTAssertEqual(p["pop"], 42)
        XCTAssertEqual(p["timestamp"], "2020-01-01")
    }
}
