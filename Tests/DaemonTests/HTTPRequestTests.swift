import Foundation
import XCTest
@testable import Daemon
import Storage
import SystemSupport

final class HTTPRequestTests: XCTestCase {
    func testParsesRequestLineAndQuery() throws {
        let r = try XCTUnwrap(HTTPRequest(head: Array("GET /v1/ingests?state=failed&limit=5 HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        XCTAssertEqual(r.method, "GET")
        XCTAssertEqual(r.path, "/v1/ingests")
        XCTAssertEqual(r.query, ["state": "failed", "limit": "5"])
        XCTAssertNil(HTTPRequest(head: Array("garbage\r\n\r\n".utf8)))
        XCTAssertTrue(HTTPRequest.isComplete(Array("GET / HTTP/1.1\r\n\r\n".utf8)))
        XCTAssertFalse(HTTPRequest.isComplete(Array("GET / HTTP/1.1\r\n".utf8)))
        let response = String(decoding: HTTPResponse.error(404, "nope").bytes, as: UTF8.self)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        XCTAssertTrue(response.hasSuffix("{\"message\":\"nope\"}\n"))
    }
}
