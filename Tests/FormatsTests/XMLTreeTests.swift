import XCTest
@testable import Formats
import GeoModel

/// The byte-indexed element trees (`XMLTree`/`XMLNode`) and the queue between the KML
/// reader's threads: values decoded on demand must equal what an eager decoder gives, and
/// elements that span buffer refills must come out whole.
final class XMLTreeTests: XCTestCase {
    func testTextEntitiesCDATAAndAttributesDecodeOnDemand() throws {
        let kml = """
        <kml><Placemark id="a&amp;b&#x22;c"><name>x &lt; y &#9786;<![CDATA[ <raw> &amp; ]]>z</name>
        <description>plain</description>
        <ExtendedData><kml:Data xmlns:kml="k" kml:name="k&apos;1"><value>v&gt;1</value></kml:Data></ExtendedData>
        <Point><coordinates>1,2</coordinates></Point></Placemark></kml>
        """
        let (features, _) = try TestSupport.readAll(name: "t.kml", text: kml)
        XCTAssertEqual(features.count, 1)
        XCTAssertEqual(features[0].id, .string("a&b\"c"))
        XCTAssertEqual(features[0].properties["name"], .string("x < y \u{263A} <raw> &amp; z"))
        XCTAssertEqual(features[0].properties["description"], .string("plain"))
        XCTAssertEqual(features[0].properties["k'1"], .string("v>1"))
        XCTAssertEqual(features[0].geometry, .point(Position(lon: 1, lat: 2)))
    }

    func testElementLargerThanTheReadBufferComesOutWhole() throws {
        // ~2.4 MB of coordinates in one Placemark: the window (1 MB) must keep and grow.
        let n = 120_000
        var kml = "<kml><Document>"
        for k in 0..<3 {
            kml += "<Placemark><name>line \(k)</name><LineString><coordinates>\n"
            for i in 0..<(k == 1 ? n : 2) { kml += "\(Double(i) * 0.000_01),\(Double(i % 7) * 0.001),\(i) " }
            kml += "</coordinates></LineString></Placemark>\n"
        }
        kml += "</Document></kml>"
        let (features, _) = try TestSupport.readAll(name: "big.kml", text: kml)
        XCTAssertEqual(features.map { $0.properties["name"] }, [.string("line 0"), .string("line 1"), .string("line 2")])
        guard case let .lineString(ps)? = features[1].geometry else { return XCTFail("\(String(describing: features[1].geometry))") }
        XCTAssertEqual(ps.count, n)
        XCTAssertEqual(ps[n - 1], Position(lon: Double(n - 1) * 0.000_01, lat: Double((n - 1) % 7) * 0.001, alt: Double(n - 1)))
    }

    func testElementOverTheFeatureLimitFails() throws {
        var limits = ReaderLimits.default
        limits.maxFeatureBytes = 4096
        let coords = String(repeating: "1,2 ", count: 2000)
        let path = try TestSupport.tempFile("limit.kml", "<kml><Placemark><LineString><coordinates>\(coords)</coordinates></LineString></Placemark></kml>")
        XCTAssertThrowsError(try TestSupport.readAll(path, limits: limits)) { error in
            guard case FormatError.limitExceeded = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("maxFeatureBytes"), "\(error)")
        }
    }

    func testErrorsInsideAnElementNameLineAndColumn() throws {
        let cases: [(String, Int, String)] = [
            ("<kml>\n<Placemark>\n<name>a &bogus; b</name></Placemark></kml>", 3, "undefined entity &bogus;"),
            ("<kml>\n<Placemark>\n<Data name=x></Data></Placemark></kml>", 3, "must be quoted"),
            ("<kml>\n<Placemark>\n<Point>\n<coordinates>1,2</Point></Placemark></kml>", 4, "does not match"),
        ]
        for (text, line, message) in cases {
            XCTAssertThrowsError(try TestSupport.readAll(name: "bad.kml", text: text)) { error in
                guard case let FormatError.malformed(_, l, column, m) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(l, line, text)
                XCTAssertGreaterThan(column ?? 0, 0)
                XCTAssertTrue(m.contains(message), m)
            }
        }
    }

    func testInvalidUTF8InCDATAPointsAtTheSection() throws {
        let bytes: [UInt8] = Array("<kml>\n<Placemark>\n<description><![CDATA[a".utf8) + [0xFF] + Array("]]></description></Placemark></kml>".utf8)
        let path = try TestSupport.tempFile("cdata.kml", bytes)
        XCTAssertThrowsError(try TestSupport.readAll(path)) { error in
            guard case let FormatError.malformed(_, line, column, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 3)
            XCTAssertEqual(column, 14)
            XCTAssertTrue(message.contains("invalid UTF-8"), message)
        }
    }

    func testQueueReleasesTakenElementsWhileTheProducerKeepsItFull() {
        final class Token: Sendable {}
        let queue = BoundedQueue<Token>(capacity: 2)
        weak var first: Token?
        do {
            let t = Token()
            first = t
            XCTAssertTrue(queue.put(t))
        }
        XCTAssertTrue(queue.put(Token()))
        XCTAssertNotNil(queue.take())
        XCTAssertTrue(queue.put(Token()))  // the queue never ran empty
        XCTAssertNil(first, "a taken element must not stay referenced by the queue")
        XCTAssertNotNil(queue.take())
        XCTAssertNotNil(queue.take())
        queue.close()
        XCTAssertNil(queue.take())
    }
}
