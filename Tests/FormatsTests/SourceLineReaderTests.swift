import Foundation
import GeoModel
import XCTest
@testable import Formats

/// Source lines with their offsets, and the `tiledrop_id` foreign member.
final class SourceLineReaderTests: XCTestCase {
    private var path = ""

    override func setUp() { path = NSTemporaryDirectory() + "tiledrop-lines-" + UUID().uuidString.prefix(8) + ".geojsonl" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    private func point(_ n: Int, padding: Int = 0) -> String {
        #"{"type":"Feature","properties":{"n":\#(n),"pad":"\#(String(repeating: "x", count: padding))"},"geometry":{"type":"Point","coordinates":[\#(n % 180),1.5]}}"#
    }

    func testLinesComeWithTheirOffsetsAcrossBufferRefillsAndLongLines() throws {
        // A 3 MiB line forces the buffer to grow; blank lines are skipped; the last line has no "\n".
        let lines = [point(1), point(2, padding: 3 << 20), point(3)] + (4..<3000).map { point($0, padding: $0 % 700) }
        let text = lines[0] + "\n\n" + lines[1...].joined(separator: "\n")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let bytes = Array(text.utf8)
        let reader = try SourceLineReader(path: path)
        var seen = 0
        while let line = try reader.next() {
            let slice = bytes[Int(line.offset)..<Int(line.offset) + line.length]
            XCTAssertEqual(String(decoding: slice, as: UTF8.self), lines[seen])
            XCTAssertEqual(line.feature?.properties["n"]?.intValue, seen + 1)
            seen += 1
        }
        XCTAssertEqual(seen, lines.count)
        let file = try SourceFile(path: path)
        XCTAssertEqual(try file.feature(at: Int64(bytes.count - lines.last!.utf8.count), length: lines.last!.utf8.count)?.properties["n"]?.intValue, 2999)
        XCTAssertThrowsError(try file.feature(at: 1, length: 10), "not a whole line")
    }

    func testALineLongerThanTheLimitIsAnError() throws {
        try Data((point(1, padding: 5000) + "\n").utf8).write(to: URL(fileURLWithPath: path))
        var limits = ReaderLimits.default
        limits.maxFeatureBytes = 1000
        let reader = try SourceLineReader(path: path, limits: limits)
        XCTAssertThrowsError(try reader.next()) { XCTAssertTrue("\($0)".contains("longer than 1000 bytes"), "\($0)") }
    }

    func testSourceIDsRoundTripAndOnlyWholePositiveNumbersCount() throws {
        var f = Feature(id: .int(7), geometry: .point(Position(lon: 1, lat: 2)), properties: JSONObject([.init(key: "a", value: .string("b"))]))
        f.sourceID = 42
        var w = JSONWriter()
        GeoJSONCoding.encode(f, into: &w)
        let text = String(decoding: w.bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"type":"Feature","tiledrop_id":42,"id":7,"properties":{"a":"b"}"#), text)
        XCTAssertEqual(w.bytes.withUnsafeBytes { SourceLineReader.decode($0) }, f, "fast path")
        XCTAssertEqual(try GeoJSONCoding.feature(from: JSONParser.parse(text)), f, "generic path")
        for bad in ["0", "-3", "1.5", "\"12\"", "null", "9007199254740993"] {
            let line = #"{"type":"Feature","tiledrop_id":\#(bad),"properties":{},"geometry":null}"#
            let decoded = Array(line.utf8).withUnsafeBytes { SourceLineReader.decode($0) }
            XCTAssertNotNil(decoded, bad)
            XCTAssertNil(decoded?.sourceID, "\(bad) is not an id of ours")
        }
    }

    func testStampingAddsTheIdAndChangesNothingElse() throws {
        let old = point(5, padding: 3)
        let stamped = Array(old.utf8).withUnsafeBytes { SourceLineReader.stamped($0, sourceID: 9) }
        let f = stamped.withUnsafeBytes { SourceLineReader.decode($0) }
        XCTAssertEqual(f?.sourceID, 9)
        var plain = f
        plain?.sourceID = nil
        XCTAssertEqual(plain, Array(old.utf8).withUnsafeBytes { SourceLineReader.decode($0) })
        XCTAssertEqual(String(decoding: stamped, as: UTF8.self), old.replacingOccurrences(of: #""Feature","#, with: #""Feature","tiledrop_id":9,"#))
        // Another writer's member order: the id goes first.
        let foreign = #"{"properties":{},"type":"Feature","geometry":null}"#
        let other = Array(foreign.utf8).withUnsafeBytes { SourceLineReader.stamped($0, sourceID: 3) }
        XCTAssertEqual(String(decoding: other, as: UTF8.self), #"{"tiledrop_id":3,"properties":{},"type":"Feature","geometry":null}"#)
    }
}
