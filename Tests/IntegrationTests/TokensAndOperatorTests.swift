import Foundation
import GeoModel
import SystemSupport
import XCTest

/// `listen`, tokens, `/health` and `/metrics` against the real binary over TCP.
final class TokensAndOperatorTests: XCTestCase {
    /// A port nobody listens on right now.
    static func freePort() throws -> UInt16 {
        let probe = try ListeningSocket.listen(.tcp(host: "127.0.0.1", port: 0))
        defer { probe.close() }
        return probe.boundPort ?? 0
    }

    /// One request over TCP with `Connection: close`: status, lower-cased headers, body.
    static func tcp(_ port: UInt16, _ method: String, _ target: String, headers: [String] = [], body: String = "") throws -> (status: Int, headers: [String: String], body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw SystemError(call: "connect", target: "127.0.0.1:\(port)", errno: errno) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n" + body
        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        let response = String(decoding: bytes, as: UTF8.self)
        guard let split = response.range(of: "\r\n\r\n") else { return (0, [:], response) }
        var lines = response[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
        var fields: [String: String] = [:]
        for line in lines {
            let kv = line.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { fields[kv[0].lowercased()] = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        return (status, fields, String(response[split.upperBound...]))
    }

    func testListenTokensHealthAndMetrics() throws {
        let port = try Self.freePort()
        let harness = try DaemonHarness(extraConfig: "listen = 127.0.0.1:\(port)")
        defer { harness.cleanUp() }
        let reader = try harness.cli(["token", "create", "--scopes", "tilesets:read tilesets:list", "--owner", "alice", "--root", harness.root])
        XCTAssertEqual(reader.status, 0, reader.stderr)
        let token = String(decoding: reader.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(token.hasPrefix("tk."))
        XCTAssertFalse((try String(contentsOfFile: harness.root + "/tokens", encoding: .utf8)).contains(token), "only the digest is stored")
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 10) { (try? Self.tcp(port, "GET", "/health"))?.status == 200 }, harness.log)

        XCTAssertEqual(try Self.tcp(port, "GET", "/v1/status").status, 401)
        XCTAssertTrue(try Self.tcp(port, "GET", "/v1/status").body.contains("No Token"))
        XCTAssertEqual(try Self.tcp(port, "GET", "/v1/status?access_token=tk.eyJ1IjoiYSIsImEiOiJiIn0.nope").status, 401)
        XCTAssertEqual(try Self.tcp(port, "GET", "/v1/status?access_token=\(token)").status, 200)
        XCTAssertEqual(try Self.tcp(port, "GET", "/v1/status", headers: ["Authorization: Token \(token)"]).status, 200)
        XCTAssertEqual(try Self.tcp(port, "POST", "/v1/ingests/x/cancel?access_token=\(token)").status, 403, "tilesets:write is missing")
        XCTAssertFalse(harness.log.contains(String(token.split(separator: ".")[2])), "tokens are never logged")

        let feature = Data(#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}"#.utf8)
        try harness.drop(feature, map: "m", name: "p.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        let metrics = try Self.tcp(port, "GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        XCTAssertTrue(metrics.body.contains("tiledrop_ingests{state=\"completed\"} 1\n"), metrics.body)
        XCTAssertTrue(metrics.body.contains("tiledrop_http_open_connections 1\n"), metrics.body)
        XCTAssertTrue(metrics.body.contains("tiledrop_http_request_duration_seconds_bucket{le=\"+Inf\"}"), metrics.body)
        XCTAssertTrue(metrics.body.contains("tiledrop_ingested_bytes_total \(feature.count)\n"), metrics.body)

        let revoke = try harness.cli(["token", "revoke", String(token.split(separator: ".")[1]), "--root", harness.root])
        XCTAssertEqual(revoke.status, 66, "revoke takes the id, not the middle part")
        let listed = String(decoding: try harness.cli(["token", "list", "--root", harness.root]).stdout, as: UTF8.self)
        let id = try XCTUnwrap(listed.split(separator: "\t").first.map(String.init))
        XCTAssertEqual(try harness.cli(["token", "revoke", id, "--root", harness.root]).status, 0)
        XCTAssertEqual(try Self.tcp(port, "GET", "/v1/status?access_token=\(token)").status, 401, "revoked tokens stop working at once")
        XCTAssertEqual(harness.stop(), 0)
    }
}
