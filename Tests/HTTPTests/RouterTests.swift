import XCTest
@testable import HTTP

final class RouterTests: XCTestCase {
    private func request(_ method: String, _ target: String) throws -> Request {
        try Request(method: method, target: target)
    }

    func testPatternsParametersAndPrecedence() throws {
        var router = Router()
        router.get("/v1/ingests/{id}") { Response.message(200, "one " + $0.parameter("id")) }
        router.get("/v1/ingests/count") { _ in Response.message(200, "count") }
        router.get("/v4/{tileset}/{z}/{x}/{y}.mvt") { r in Response.message(200, "\(r.parameter("tileset")) \(r.parameter("z"))/\(r.parameter("x"))/\(r.parameter("y"))") }
        router.get("/v4/{tileset}.json") { Response.message(200, "tilejson " + $0.parameter("tileset")) }
        router.post("/v1/ingests/{id}/cancel") { _ in Response.message(200, "canceled") }
        func body(_ r: Response) -> String { String(decoding: r.body.bytesValue ?? [], as: UTF8.self) }
        XCTAssertEqual(body(router.respond(to: try request("GET", "/v1/ingests/count"))), "{\"message\":\"count\"}\n")
        XCTAssertEqual(body(router.respond(to: try request("GET", "/v1/ingests/a%20b"))), "{\"message\":\"one a b\"}\n")
        XCTAssertEqual(body(router.respond(to: try request("GET", "/v4/me.roads,me.rivers/3/4/5.mvt"))), "{\"message\":\"me.roads,me.rivers 3/4/5\"}\n")
        XCTAssertEqual(body(router.respond(to: try request("GET", "/v4/me.roads.json"))), "{\"message\":\"tilejson me.roads\"}\n")
        XCTAssertEqual(router.respond(to: try request("GET", "/v4/me.roads/3/4/5.png")).status, 404)
        let wrongMethod = router.respond(to: try request("DELETE", "/v1/ingests/x/cancel"))
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.headers["allow"], "POST, OPTIONS")
        XCTAssertEqual(router.respond(to: try request("HEAD", "/v1/ingests/count")).status, 200, "HEAD runs the GET route")
    }

    func testErrorShapesByPrefix() throws {
        var router = Router()
        router.setErrorShape(prefix: "/api/1/") { status, message in Response.message(status, "maphub: " + message) }
        let r = router.respond(to: try request("GET", "/api/1/nothing"))
        XCTAssertEqual(r.status, 404)
        XCTAssertTrue(String(decoding: r.body.bytesValue ?? [], as: UTF8.self).contains("maphub: no such endpoint"))
    }

    func testTargetsAreDecodedAndHostilePathsRefused() throws {
        let r = try request("GET", "/a/b%2Cc/?q=x+y&e=%C3%A9&flag")
        XCTAssertEqual(r.segments, ["a", "b,c"])
        XCTAssertEqual(r.path, "/a/b,c")
        XCTAssertEqual(r.query["q"], "x y")
        XCTAssertEqual(r.query["e"], "é")
        XCTAssertEqual(r.query["flag"], "")
        for bad in ["/a/../b", "/a/%2e%2e/b", "/a%00b", "/x?y=%00", "/a/./b", "/a%2Fb", "/a%zz", "/a%C3", "relative", "/a//b",
                    "/" + String(repeating: "x", count: 2000)] {
            XCTAssertThrowsError(try request("GET", bad), bad) { error in
                XCTAssertEqual((error as? HTTPError)?.status, 400, bad)
            }
        }
    }

    func testHeadParserFramingAndLimits() throws {
        func parse(_ text: String, limits: RequestHead.Limits = .init()) throws -> (RequestHead, Int)? {
            var scanned = 0
            return try RequestHead.parse(Array(text.utf8)[...], scanned: &scanned, limits: limits)
        }
        func status(_ text: String, limits: RequestHead.Limits = .init()) -> Int? {
            do { _ = try parse(text, limits: limits); return nil } catch { return (error as? HTTPError)?.status }
        }
        let (head, used) = try XCTUnwrap(try parse("\r\nGET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"))
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.framing, .length(5))
        XCTAssertEqual(used, 49, "up to the body")
        XCTAssertNil(try parse("GET /x HTTP/1.1\r\nHost: a\r\n"), "incomplete")
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")?.0.framing, .chunked)
        XCTAssertEqual(try parse("GET / HTTP/1.0\nConnection: keep-alive\n\n")?.0.isHTTP10, true, "bare LF accepted")
        XCTAssertEqual(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400)
        XCTAssertEqual(status("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), 400)
        XCTAssertEqual(status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400)
        XCTAssertEqual(status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501)
        XCTAssertEqual(status("GET / HTTP/2.0\r\n\r\n"), 505)
        XCTAssertEqual(status("GET  / HTTP/1.1\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000) + "\r\n\r\n"), 431)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000)), 431)
        XCTAssertEqual(status("GET /" + String(repeating: "a", count: 20_000)), 414)
        var small = RequestHead.Limits()
        small.maxHeaderCount = 2
        XCTAssertEqual(status("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: small), 431)
    }

    func testChunkedDecoder() throws {
        var decoder = ChunkedDecoder()
        var out: [UInt8] = []
        let input = Array("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT".utf8)
        // Byte by byte, as a slow client would send it.
        var used = 0
        for i in 0..<input.count where !decoder.isDone {
            used += try decoder.feed(input[i..<(i + 1)]) { out += $0 }
        }
        XCTAssertTrue(decoder.isDone)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "hello world")
        XCTAssertEqual(used, input.count - 4, "the next request's bytes are left")
        var bad = ChunkedDecoder()
        XCTAssertThrowsError(try bad.feed(Array("zz\r\n".utf8)[...]) { _ in })
        var long = ChunkedDecoder()
        XCTAssertThrowsError(try long.feed(Array("3\r\nabcdef\r\n".utf8)[...]) { _ in })
    }
}

/// RFC 9110 §14 byte ranges as the PMTiles route applies them.
final class ByteRangeTests: XCTestCase {
    func testSingleRangesAndWhatIsIgnoredOrUnsatisfiable() {
        XCTAssertEqual(ByteRange(header: nil, size: 100), .whole)
        XCTAssertEqual(ByteRange(header: "bytes=0-126", size: 1000), .partial(offset: 0, length: 127))
        XCTAssertEqual(ByteRange(header: "bytes=900-", size: 1000), .partial(offset: 900, length: 100))
        XCTAssertEqual(ByteRange(header: "bytes=990-2000", size: 1000), .partial(offset: 990, length: 10), "the end is clamped")
        XCTAssertEqual(ByteRange(header: "bytes=-10", size: 1000), .partial(offset: 990, length: 10))
        XCTAssertEqual(ByteRange(header: "bytes=-5000", size: 1000), .partial(offset: 0, length: 1000))
        XCTAssertEqual(ByteRange(header: " bytes=5-5 ", size: 1000), .partial(offset: 5, length: 1))
        XCTAssertEqual(ByteRange(header: "bytes=1000-", size: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRange(header: "bytes=-0", size: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRange(header: "bytes=0-0", size: 0), .unsatisfiable)
        for ignored in ["items=0-5", "bytes=0-5,10-20", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes=99999999999999999999-", "bytes"] {
            XCTAssertEqual(ByteRange(header: ignored, size: 1000), .whole, ignored)
        }
    }
}
