import Foundation
@testable import HTTP
import SystemSupport

/// A raw blocking HTTP client over a Unix socket: sends bytes, reads responses delimited by
/// Content-Length, so keep-alive and pipelining can be observed.
final class TestClient: @unchecked Sendable {
    let socket: UnixSocket
    private var buffer: [UInt8] = []

    init(path: String) throws {
        socket = try UnixSocket.connect(path: path, timeoutSeconds: 10)
    }

    func send(_ text: String) throws { try socket.sendAll(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) throws { try socket.sendAll(bytes) }

    /// Reads one response; nil at end of stream.
    func response() throws -> (status: Int, headers: [String: String], body: [UInt8])? {
        while true {
            if let end = find([13, 10, 13, 10]) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
                var headers: [String: String] = [:]
                for line in lines {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                while buffer.count < end + 4 + length {
                    let chunk = try socket.receive()
                    if chunk.isEmpty { return nil }
                    buffer += chunk
                }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                return (status, headers, body)
            }
            let chunk = try socket.receive()
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i] == needle[0] && Array(buffer[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
