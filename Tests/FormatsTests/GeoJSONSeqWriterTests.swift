import Foundation
import XCTest
@testable import Formats
import GeoModel

final class GeoJSONSeqWriterTests: XCTestCase {
    func testWritesOneFeaturePerLineAndReadsBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seqw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("out.geojsonl").path
        let features = [
            Feature(id: 1, geometry: .point(Position(lon: 0.1, lat: -2.5, alt: 100)), properties: JSONObject([.init(key: "name", value: "a\nb")])),
            Feature(geometry: nil),
            Feature(id: "x", geometry: .multiPolygon([[[Position(lon: 0, lat: 0), Position(lon: 1, lat: 0), Position(lon: 1, lat: 1), Position(lon: 0, lat: 0)]]])),
            Feature(geometry: .geometryCollection([.point(Position(lon: 1, lat: 1)), .lineString([Position(lon: 0, lat: 0), Position(lon: 179.99999999999997, lat: 1e-7)])])),
        ]
        let w = try GeoJSONSeqWriter(path: path)
        for f in features { try w.write(f) }
        try w.finish(sync: true)
        XCTAssertEqual(w.featureCount, 4)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(w.bytesWritten, data.count)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines.last, "")
        XCTAssertEqual(lines[1], #"{"type":"Feature","properties":{},"geometry":null}"#)

        var back: [Feature] = []
        try GeoJSONSeqSource(paths: [path, path]).forEachFeature { back.append($0) }
        XCTAssertEqual(back, features + features)
    }

    func testEncodeMatchesJSONValue() throws {
        let f = Feature(id: 3, geometry: .polygon([[Position(lon: 0, lat: 0), Position(lon: 1, lat: 0), Position(lon: 1, lat: 1), Position(lon: 0, lat: 0)]]), properties: JSONObject([.init(key: "k", value: [1, "two"])]))
        let v = GeoJSONCoding.jsonValue(f)
        XCTAssertEqual(v["type"], "Feature")
        XCTAssertEqual(v["geometry"]?["type"], "Polygon")
        XCTAssertEqual(try GeoJSONCoding.feature(from: v), f)
        XCTAssertEqual(try GeoJSONCoding.geometry(from: v["geometry"]!), f.geometry)
    }

    func testWriteToDescriptorDoesNotCloseIt() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let w = GeoJSONSeqWriter(fileDescriptor: fds[1], name: "pipe")
        try w.write(Feature(geometry: .point(Position(lon: 1, lat: 2))))
        try w.finish(sync: true)
        XCTAssertNotEqual(fcntl(fds[1], F_GETFD), -1)
        close(fds[1])
        var buf = [UInt8](repeating: 0, count: 256)
        let n = read(fds[0], &buf, 256)
        close(fds[0])
        XCTAssertEqual(String(decoding: buf[0..<max(n, 0)], as: UTF8.self), #"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}"# + "\n")
    }

    /// Many features cross batch and buffer boundaries on the encoder thread; order and count hold.
    func testManyFeaturesKeepOrderAcrossBatches() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seqw-many-\(UUID().uuidString).geojsonl").path
        defer { unlink(path) }
        let w = try GeoJSONSeqWriter(path: path)
        for i in 0..<20_000 {
            try w.write(Feature(id: .int(Int64(i)), geometry: .point(Position(lon: Double(i) / 1000, lat: 1.5)), properties: JSONObject([.init(key: "name", value: .string(String(repeating: "x", count: i % 300)))])))
        }
        try w.flush()
        let flushed = w.bytesWritten
        try w.finish(sync: false)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(flushed, data.count)
        XCTAssertEqual(w.bytesWritten, data.count)
        var ids: [Int] = []
        try GeoJSONSeqSource(paths: [path]).forEachFeature { ids.append($0.id?.intValue ?? -1) }
        XCTAssertEqual(ids, Array(0..<20_000))
    }

    /// A failing write(2) (ENOSPC on /dev/full) surfaces as an error, not silent data loss.
    func testWriteErrorsAreReported() throws {
        guard access("/dev/full", W_OK) == 0 else { throw XCTSkip("/dev/full not available") }
        let w = try GeoJSONSeqWriter(path: "/dev/full")
        var failed = false
        do {
            for _ in 0..<10_000 { try w.write(Feature(geometry: .point(Position(lon: 1, lat: 2)))) }
            try w.finish(sync: false)
        } catch {
            failed = true
            XCTAssertTrue("\(error)".contains("write"), "\(error)")
        }
        XCTAssertTrue(failed)
    }
}
