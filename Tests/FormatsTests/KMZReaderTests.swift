import CZlib
import Foundation
import XCTest
@testable import Formats
import GeoModel

final class KMZReaderTests: XCTestCase {
    /// Builds a zip archive in memory (APPNOTE §4.3), deflating entries with zlib.
    static func zip(_ entries: [(name: String, data: [UInt8])], deflate: Bool = true, flags: UInt16 = 0, lieAboutSize: Int? = nil) -> [UInt8] {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }
        var out: [UInt8] = []
        var central: [UInt8] = []
        for e in entries {
            var payload = e.data
            if deflate {
                var s = z_stream()
                deflateInit2_(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
                var buf = [UInt8](repeating: 0, count: Int(deflateBound(&s, uLong(e.data.count))) + 64)
                var input = e.data
                input.withUnsafeMutableBufferPointer { inp in
                    buf.withUnsafeMutableBufferPointer { outp in
                        s.next_in = inp.baseAddress
                        s.avail_in = uInt(inp.count)
                        s.next_out = outp.baseAddress
                        s.avail_out = uInt(outp.count)
                        _ = CZlib.deflate(&s, Z_FINISH)
                    }
                }
                payload = Array(buf[0..<Int(s.total_out)])
                deflateEnd(&s)
            }
            let crc = e.data.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, uInt($0.count))) }
            let size = lieAboutSize ?? e.data.count
            let name = Array(e.name.utf8)
            let offset = out.count
            let common = le16(20) + le16(Int(flags)) + le16(deflate ? 8 : 0) + le16(0) + le16(0) + le32(crc) + le32(payload.count) + le32(size) + le16(name.count) + le16(0)
            out += le32(0x0403_4B50) + common + name + payload
            central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + name
        }
        let cdOffset = out.count
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count) + le32(central.count) + le32(cdOffset) + le16(0)
        return out
    }

    let kml = Array("<kml><Placemark><name>in zip</name><Point><coordinates>1,2</coordinates></Point></Placemark></kml>".utf8)

    func testReadsDocKMLWithoutExtracting() throws {
        let other = Array("<kml><Placemark><name>other</name></Placemark></kml>".utf8)
        let path = try TestSupport.tempFile("a.kmz", Self.zip([("files/other.kml", other), ("doc.kml", kml)]))
        let (features, reader) = try TestSupport.readAll(path)
        XCTAssertEqual(reader.format, .kmz)
        XCTAssertEqual(features.map { $0.properties["name"] }, ["in zip"])
        let stored = try TestSupport.tempFile("s.kmz", Self.zip([("a/b.kml", other), ("top.kml", kml)], deflate: false))
        XCTAssertEqual(try TestSupport.readAll(stored).0.map { $0.properties["name"] }, ["in zip"])
    }

    func testRefusesBombsEncryptedAndEmptyArchives() throws {
        let zeros = [UInt8](repeating: 0x20, count: 4 << 20)
        let bomb = try TestSupport.tempFile("bomb.kmz", Self.zip([("doc.kml", zeros)]))
        XCTAssertThrowsError(try TestSupport.readAll(bomb)) { error in
            guard case FormatError.limitExceeded(_, let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("ratio"), m)
        }
        let liar = try TestSupport.tempFile("liar.kmz", Self.zip([("doc.kml", kml + [UInt8](repeating: 0x20, count: 1000))], lieAboutSize: kml.count))
        XCTAssertThrowsError(try TestSupport.readAll(liar)) { error in
            guard case FormatError.limitExceeded = error else { return XCTFail("\(error)") }
        }
        let encrypted = try TestSupport.tempFile("enc.kmz", Self.zip([("doc.kml", kml)], flags: 1))
        XCTAssertThrowsError(try TestSupport.readAll(encrypted)) { XCTAssertTrue("\($0)".contains("encrypted"), "\($0)") }
        let nokml = try TestSupport.tempFile("no.kmz", Self.zip([("image.png", [1, 2, 3])]))
        XCTAssertThrowsError(try TestSupport.readAll(nokml)) { XCTAssertTrue("\($0)".contains("no .kml"), "\($0)") }
        var limits = ReaderLimits()
        limits.maxUncompressedBytes = 50
        XCTAssertThrowsError(try TestSupport.readAll(try TestSupport.tempFile("big.kmz", Self.zip([("doc.kml", kml)])), limits: limits))
    }

    func testLibkmlFixtures() throws {
        let root = try TestSupport.fixtures("libkml")
        func read(_ sub: String) throws -> [Feature] { try TestSupport.readAll(root.appendingPathComponent(sub).path).0 }
        XCTAssertFalse(try read("kmz/doc.kmz").isEmpty)
        XCTAssertFalse(try read("kmz/hier.kmz").isEmpty)
        XCTAssertFalse(try read("kmz/balloon-image-rel.kmz").isEmpty)
        XCTAssertFalse(try read("kmz/rumsey/kml/lc01.kmz").isEmpty)
        XCTAssertFalse(try read("style/weather/points-puntas.kmz").isEmpty)
        XCTAssertThrowsError(try read("kmz/nokml.kmz")) { XCTAssertTrue("\($0)".contains("no .kml"), "\($0)") }
        let (samples, reader) = try TestSupport.readAll(root.appendingPathComponent("kml/kmlsamples.kml").path)
        XCTAssertGreaterThan(samples.count, 10)
        XCTAssertFalse(reader.groups.isEmpty, "KML Samples has nested folders")
        for file in ["style/remote-styleurl.kml", "style/remote-styleurl.kmz"] {
            XCTAssertNoThrow(try read(file), file)
        }
    }
}
