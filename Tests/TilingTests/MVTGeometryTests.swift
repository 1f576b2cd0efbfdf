import GeoModel
@testable import Tiling
import XCTest

final class MVTGeometryTests: XCTestCase {
    private func p(_ x: Int32, _ y: Int32) -> TilePoint { TilePoint(x: x, y: y) }

    func testPointEncodingMatchesSpecExample() {
        // MVT 2.1 §4.3.5.1: Point(25 17) -> [9, 50, 34]
        XCTAssertEqual(MVTGeometry.encodePoints([p(25, 17)]), [9, 50, 34])
        // §4.3.5.2: MultiPoint(5 7, 3 2) -> [17, 10, 14, 3, 9]
        XCTAssertEqual(MVTGeometry.encodePoints([p(5, 7), p(3, 2)]), [17, 10, 14, 3, 9])
    }

    func testLineEncodingDropsRepeatedPointsAndDegenerateLines() {
        // §4.3.5.3: LineString(2 2, 2 10, 10 10) -> [9, 4, 4, 18, 0, 16, 16, 0]
        XCTAssertEqual(MVTGeometry.encodeLines([[p(2, 2), p(2, 2), p(2, 10), p(10, 10), p(10, 10)]]), [9, 4, 4, 18, 0, 16, 16, 0])
        XCTAssertEqual(MVTGeometry.encodeLines([[p(3, 3), p(3, 3)]]), [], "a zero-length line must not be encoded")
    }

    func testPolygonWindingIsNormalised() throws {
        // Same square given counter-clockwise on screen: must come out clockwise (positive area).
        let ccw = [p(0, 0), p(0, 10), p(10, 10), p(10, 0), p(0, 0)]
        let hole = [p(2, 2), p(4, 2), p(4, 4), p(2, 4)] // clockwise on screen: must be reversed
        let cmds = MVTGeometry.encodePolygons([[ccw, hole]])
        let decoded = try MVTGeometry.decode(cmds, type: .polygon)
        XCTAssertEqual(decoded.parts.count, 2)
        XCTAssertGreaterThan(MVTGeometry.signedArea2(decoded.parts[0]), 0, "exterior ring must be clockwise in tile space")
        XCTAssertLessThan(MVTGeometry.signedArea2(decoded.parts[1]), 0, "hole must be counter-clockwise in tile space")
        XCTAssertEqual(decoded.parts[0].count, 4, "closing point is implied by ClosePath")
    }

    func testDegeneratePolygonPartsAreDropped() throws {
        let flat = [p(0, 0), p(5, 0), p(10, 0), p(0, 0)]
        XCTAssertEqual(MVTGeometry.encodePolygons([[flat]]), [])
        let square = [p(0, 0), p(10, 0), p(10, 10), p(0, 10)]
        let tinyHole = [p(1, 1), p(1, 1), p(1, 1)]
        let decoded = try MVTGeometry.decode(MVTGeometry.encodePolygons([[square, tinyHole], [flat, square]]), type: .polygon)
        XCTAssertEqual(decoded.parts.count, 1, "degenerate hole and the polygon with a degenerate exterior are dropped")
    }

    func testRoundTripThroughDecoderKeepsCoordinates() throws {
        let line = [p(0, 0), p(4096, 4096), p(-64, 4100), p(100, -3)]
        let decoded = try MVTGeometry.decode(MVTGeometry.encodeLines([line, [p(1, 1), p(2, 2)]]), type: .lineString)
        XCTAssertEqual(decoded.parts, [line, [p(1, 1), p(2, 2)]])
    }

    func testDecoderRejectsMalformedStreams() {
        XCTAssertThrowsError(try MVTGeometry.decode([15, 9, 50, 34], type: .polygon), "begins with ClosePath")
        XCTAssertThrowsError(try MVTGeometry.decode([9, 50], type: .point), "half a coordinate pair")
        XCTAssertThrowsError(try MVTGeometry.decode([9, 4, 4, 18, 0, 16, 16, 0, 15], type: .lineString), "ClosePath in a linestring")
        XCTAssertThrowsError(try MVTGeometry.decode([9, 6, 12, 18, 10, 12, 24, 44, 23], type: .polygon), "ClosePath count 2")
        XCTAssertThrowsError(try MVTGeometry.decode([9 + (1 << 20) * 8, 1, 1], type: .point), "count larger than the stream")
    }

    func testLayerBuilderDeduplicatesKeysAndValues() throws {
        var b = MVTLayerBuilder(name: "l")
        b.addFeature(id: 1, type: .point, geometry: [9, 2, 2], properties: [("a", .string("x")), ("b", .uint(1))])
        b.addFeature(id: 2, type: .point, geometry: [9, 4, 4], properties: [("a", .string("x")), ("b", .uint(2))])
        XCTAssertEqual(b.keys, ["a", "b"])
        XCTAssertEqual(b.values, [.string("x"), .uint(1), .uint(2)])
        let encoded = b.encoded()
        XCTAssertEqual(encoded.count, b.size, "size must predict the encoded length exactly")
        let tile = try MVTTile(decoding: MVTTileEncoder.encode([b]))
        XCTAssertEqual(tile.layers.count, 1)
        XCTAssertEqual(tile.layers[0].extent, 4096)
        XCTAssertEqual(tile.layers[0].version, 2)
        XCTAssertEqual(tile.layers[0].features.map(\.id), [1, 2])
        XCTAssertEqual(tile.layers[0].features[1].tags, [0, 0, 1, 2])
    }

    func testValueEncodingRoundTrips() throws {
        let values: [MVTValue] = [.string("é"), .float(3.5), .double(-1.25), .int(-7), .uint(1 << 40), .sint(-87948), .bool(true)]
        var b = MVTLayerBuilder(name: "v")
        b.addFeature(id: nil, type: .point, geometry: [9, 0, 0], properties: values.enumerated().map { ("k\($0.offset)", $0.element) })
        let tile = try MVTTile(decoding: MVTTileEncoder.encode([b]))
        XCTAssertEqual(tile.layers[0].values, values)
        XCTAssertNil(tile.layers[0].features[0].id)
    }

    func testGzipRoundTrip() throws {
        let data = [UInt8]((0..<10000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) })
        let gz = Gzip.compress(data)
        XCTAssertTrue(Gzip.isGzip(gz))
        XCTAssertLessThan(gz.count, data.count)
        XCTAssertEqual(try Gzip.decompress(gz), data)
        XCTAssertThrowsError(try Gzip.decompress(Array(gz.prefix(gz.count / 2))), "truncated gzip must be rejected")
    }
}
