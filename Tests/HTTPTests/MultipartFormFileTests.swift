import Foundation
import HTTP
import XCTest

/// multipart/form-data extraction (RFC 7578): the file field copied out across block borders,
/// from memory and from a temporary file, and every malformed body refused with a 400.
final class MultipartFormFileTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "multipart-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func body(_ parts: [(headers: String, content: [UInt8])], boundary: String, close: Bool = true) -> [UInt8] {
        var bytes = Array("preamble to ignore\r\n".utf8)
        for part in parts {
            bytes += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.content + Array("\r\n".utf8)
        }
        if close { bytes += Array("--\(boundary)--\r\n".utf8) }
        return bytes
    }

    /// Extracts the field `file` into a fresh file; returns the result and the bytes written.
    private func extract(_ body: RequestBody, boundary: String) throws -> (MultipartFormFile, [UInt8]) {
        let out = dir + "/out-" + UUID().uuidString
        let fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        defer { close(fd) }
        let result = try MultipartFormFile.extract(field: "file", from: body, boundary: boundary, into: fd)
        return (result, Array(try Data(contentsOf: URL(fileURLWithPath: out))))
    }

    func testTheFileFieldIsCopiedOutFromMemoryAndFromATemporaryFile() throws {
        let boundary = "abc123"
        // Content that contains near-boundaries and spans many 256 KiB blocks.
        var content = Array("line\r\n--abc12\r\n-abc123x".utf8)
        for i in 0..<200_000 { content += Array("{\"n\":\(i)}\n".utf8) }
        let bytes = body([(#"Content-Disposition: form-data; name="note""#, Array("hello".utf8)),
                          ("Content-Disposition: form-data; name=\"file\"; filename=\"pts.geojsonl\"\r\nContent-Type: application/octet-stream", content)],
                         boundary: boundary)
        let (fromMemory, copied) = try extract(.bytes(bytes), boundary: boundary)
        XCTAssertEqual(fromMemory.filename, "pts.geojsonl")
        XCTAssertEqual(fromMemory.size, Int64(content.count))
        XCTAssertEqual(copied, content)

        let path = dir + "/body"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (fromFile, copied2) = try extract(.file(path: path, size: Int64(bytes.count)), boundary: boundary)
        XCTAssertEqual(fromFile, fromMemory)
        XCTAssertEqual(copied2, content)
    }

    func testTheBoundaryComesFromTheContentType() throws {
        XCTAssertEqual(try MultipartFormFile.boundary(contentType: "multipart/form-data; boundary=xyz"), "xyz")
        XCTAssertEqual(try MultipartFormFile.boundary(contentType: #"multipart/form-data; charset=utf-8; boundary="a b""#), "a b")
        for bad in [nil, "application/json", "multipart/form-data", "multipart/form-data; boundary=" + String(repeating: "x", count: 71)] {
            XCTAssertThrowsError(try MultipartFormFile.boundary(contentType: bad)) { XCTAssertEqual(($0 as? HTTPError)?.status, 400) }
        }
    }

    func testMalformedBodiesAreRefusedWithA400() throws {
        let b = "zz"
        let file = (headers: #"Content-Disposition: form-data; name="file""#, content: Array("data".utf8))
        let cases: [(String, [UInt8])] = [
            ("no boundary at all", Array("just some bytes".utf8)),
            ("no closing boundary", body([file], boundary: b, close: false)),
            ("no file field", body([(#"Content-Disposition: form-data; name="other""#, Array("x".utf8))], boundary: b)),
            ("truncated in the part headers", Array("--zz\r\nContent-Disposition: form-data; name=\"file\"".utf8)),
            ("endless part headers", Array("--zz\r\n".utf8) + Array(repeating: 65, count: 40_000)),
            ("empty body", []),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try extract(.bytes(bytes), boundary: b), name) { XCTAssertEqual(($0 as? HTTPError)?.status, 400, name) }
        }
    }
}
