@testable import Tiling
import XCTest

/// A stored layer resumed as bytes (`MVTLayerBuilder(resuming:range:)`) and extended must give
/// the bytes of one builder that added every feature, whether the new features' keys and
/// values are found by scanning the stored fields or through the table built after a few
/// lookups, NaN (never shared) included.
final class MVTLayerResumeTests: XCTestCase {
    private func properties(_ i: Int) -> [(key: String, value: MVTValue)] {
        var p: [(key: String, value: MVTValue)] = [("kind", .string(["city", "town", "village"][i % 3])), ("n", .uint(UInt64(i % 7)))]
        if i % 5 == 0 { p.append(("x", .double(.nan))) }
        if i % 4 == 0 { p.append(("k\(i % 9)", .sint(-Int64(i)))) }
        return p
    }

    private func check(stored: Int, added: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var whole = MVTLayerBuilder(name: "places")
        var first = MVTLayerBuilder(name: "places")
        for i in 0..<stored {
            first.addFeature(id: UInt64(i), type: .point, geometry: [9, UInt32(2 * i), 2], properties: properties(i))
            whole.addFeature(id: UInt64(i), type: .point, geometry: [9, UInt32(2 * i), 2], properties: properties(i))
        }
        var tile: [UInt8] = []
        MVTTileEncoder.appendLayer(first.encoded(), to: &tile)
        let range = try XCTUnwrap(MVTLayerBuilder.layerRanges(of: tile).first { $0.name == "places" }).range
        var resumed = try MVTLayerBuilder(resuming: tile, range: range)
        XCTAssertEqual(resumed.encoded(), first.encoded(), "resuming alone changes nothing", file: file, line: line)
        XCTAssertEqual(resumed.size, first.size, file: file, line: line)
        for i in stored..<(stored + added) {
            resumed.addFeature(id: UInt64(i), type: .point, geometry: [9, UInt32(2 * i), 2], properties: properties(i))
            whole.addFeature(id: UInt64(i), type: .point, geometry: [9, UInt32(2 * i), 2], properties: properties(i))
        }
        XCTAssertEqual(resumed.encoded(), whole.encoded(), "stored \(stored) + added \(added)", file: file, line: line)
        XCTAssertEqual(resumed.size, whole.size, file: file, line: line)
        XCTAssertEqual(resumed.featureCount, stored + added, file: file, line: line)
    }

    func testExtendedLayersEqualOneBuilderByScanAndByTable() throws {
        try check(stored: 30, added: 1)   // a few lookups: scans
        try check(stored: 30, added: 40)  // many lookups: the table
        try check(stored: 1, added: 12)
    }

    func testALayerWithARepeatedKeyIsRefused() throws {
        var w = ProtobufWriter()
        w.varintField(15, 2)
        w.stringField(1, "l")
        w.stringField(3, "a")
        w.stringField(3, "a")
        w.varintField(5, 4096)
        var tile: [UInt8] = []
        MVTTileEncoder.appendLayer(w.bytes, to: &tile)
        let range = try XCTUnwrap(MVTLayerBuilder.layerRanges(of: tile).first).range
        XCTAssertThrowsError(try MVTLayerBuilder(resuming: tile, range: range))
    }
}
