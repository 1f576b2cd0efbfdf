import Foundation
import GeoModel
import XCTest

/// `rate_limit`: a token's requests beyond its budget get 429 with the Mapbox rate-limit
/// headers, in each service's error shape, against the real binary over TCP.
final class RateLimitTests: XCTestCase {
    func testTokensOverTheirBudgetGet429WithRateLimitHeaders() throws {
        let port = try TokensAndOperatorTests.freePort()
        let harness = try DaemonHarness(extraConfig: "listen = 127.0.0.1:\(port)\nrate_limit = 3\nrate_limit_interval = 3600\nowner = alice")
        defer { harness.cleanUp() }
        func token() throws -> String {
            let made = try harness.cli(["token", "create", "--scopes", "tilesets:read tilesets:list tilesets:write", "--owner", "alice", "--root", harness.root])
            XCTAssertEqual(made.status, 0, made.stderr)
            return String(decoding: made.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let (first, second) = (try token(), try token())
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 10) { (try? TokensAndOperatorTests.tcp(port, "GET", "/health"))?.status == 200 }, harness.log)
        let started = Int(Date().timeIntervalSince1970)

        for _ in 0..<3 {
            let ok = try TokensAndOperatorTests.tcp(port, "GET", "/tilesets/v1/sources/alice?access_token=\(first)")
            XCTAssertEqual(ok.status, 200, ok.body)
            XCTAssertEqual(ok.headers["x-rate-limit-limit"], "3")
            XCTAssertEqual(ok.headers["x-rate-limit-interval"], "3600")
            let reset = Int(ok.headers["x-rate-limit-reset"] ?? "") ?? 0
            XCTAssertTrue((started + 3590...started + 3700).contains(reset), "reset is the Unix time the window ends: \(reset)")
        }
        let refused = try TokensAndOperatorTests.tcp(port, "GET", "/tilesets/v1/sources/alice?access_token=\(first)")
        XCTAssertEqual(refused.status, 429)
        XCTAssertEqual(refused.headers["x-rate-limit-limit"], "3")
        XCTAssertNotNil(refused.headers["retry-after"])
        XCTAssertTrue(try JSONParser.parse(refused.body)["message"]?.stringValue?.hasPrefix("Too Many Requests") == true, refused.body)

        // MapTiler's error shape; an upload body is refused before it is read.
        let maptiler = try TokensAndOperatorTests.tcp(port, "POST", "/v1/datasets/ingest", headers: ["Authorization: Token \(first)", "Content-Type: application/json"],
                                                      body: #"{"filename": "a.mbtiles", "size": 10}"#)
        XCTAssertEqual(maptiler.status, 429)
        XCTAssertNotNil(try JSONParser.parse(maptiler.body)["errors"]?.arrayValue?.first?["message"], maptiler.body)
        XCTAssertEqual(try TokensAndOperatorTests.tcp(port, "POST", "/api/1/map/append", headers: ["Authorization: Token \(first)"], body: "x").status, 429)

        // Another token has its own budget; requests without a token are not counted.
        let other = try TokensAndOperatorTests.tcp(port, "GET", "/tilesets/v1/sources/alice", headers: ["Authorization: Token \(second)"])
        XCTAssertEqual(other.status, 200)
        XCTAssertEqual(other.headers["x-rate-limit-limit"], "3")
        for _ in 0..<5 {
            let open = try TokensAndOperatorTests.tcp(port, "GET", "/health")
            XCTAssertEqual(open.status, 200)
            XCTAssertNil(open.headers["x-rate-limit-limit"])
        }
        XCTAssertEqual(harness.stop(), 0)
    }
}
