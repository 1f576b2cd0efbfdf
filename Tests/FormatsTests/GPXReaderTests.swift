import XCTest
@testable import Formats
import GeoModel

final class GPXReaderTests: XCTestCase {
    let gpx = """
    <?xml version="1.0"?>
    <gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
      <wpt lat="1" lon="2"><ele>5</ele><name>W</name><sym>Flag</sym></wpt>
      <rte><name>R</name><rtept lat="0" lon="0"/><rtept lat="1" lon="1"/></rte>
      <trk><name>T</name>
        <trkseg>
          <trkpt lat="10" lon="20"><ele>100</ele><time>2020-01-01T00:00:00Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>120</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
          <trkpt lat="10.5" lon="20.5"><ele>101</ele><time>2020-01-01T00:00:01Z</time></trkpt>
        </trkseg>
        <trkseg></trkseg>
      </trk>
    </gpx>
    """

    func testTracksThenRoutesThenWaypoints() throws {
        let (features, reader) = try TestSupport.readAll(name: "a.gpx", text: gpx)
        XCTAssertEqual(reader.format, .gpx)
        XCTAssertEqual(features.map { $0.properties["name"] }, ["T", "R", "W"])
        XCTAssertEqual(features[0].geometry, .lineString([Position(lon: 20, lat: 10, alt: 100), Position(lon: 20.5, lat: 10.5, alt: 101)]))
        XCTAssertEqual(features[0].properties["_gpxType"], "trk")
        XCTAssertEqual(features[0].properties["coordinateProperties"]?["times"], ["2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z"])
        XCTAssertEqual(features[0].properties["coordinateProperties"]?["heart"], [120, nil])
        XCTAssertEqual(features[1].properties["_gpxType"], "rte")
        XCTAssertEqual(features[2].geometry, .point(Position(lon: 2, lat: 1, alt: 5)))
        XCTAssertEqual(features[2].properties["sym"], "Flag")
    }

    /// With a tiny hold-back limit the reader re-reads the file per kind; the output must not change.
    func testMultiPassGivesTheSameOrder() throws {
        let path = try TestSupport.tempFile("b.gpx", gpx)
        let file = try FileInput(path: path, name: path, followSymlinks: false)
        let reader = GPXReader(file: file, name: path, limits: .default, maxHeldFeatures: 0)
        var names: [JSONValue?] = []
        while let f = try reader.next() { names.append(f.properties["name"]) }
        XCTAssertEqual(names, ["T", "R", "W"])
    }

    func testOutOfRangePointSkipsFeatureWithWarning() throws {
        let text = #"<gpx><trk><name>x</name><trkseg><trkpt lat="95" lon="0"/><trkpt lat="1" lon="1"/></trkseg></trk><wpt lat="1" lon="1"/></gpx>"#
        let (features, reader) = try TestSupport.readAll(name: "c.gpx", text: text)
        XCTAssertEqual(features.count, 1)
        XCTAssertEqual(reader.warnings.count, 1)
        XCTAssertTrue(reader.warnings[0].message.hasPrefix("feature 0 (line 1): coordinate"), reader.warnings[0].message)
    }
}
