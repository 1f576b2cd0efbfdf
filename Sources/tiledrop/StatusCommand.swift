import Daemon
import GeoModel
import SystemSupport

/// `tiledrop status [--root DIR | --socket PATH] [--json]`: asks the running daemon.
enum StatusCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, command: "status", valued: ["--root", "--socket", "--config"], flags: ["--json"]) else {
            return ExitCode.usage
        }
        guard let config = loadConfiguration(args, command: "status") else { return ExitCode.config }
        let path = args.value("--socket") ?? config.socketPath
        let body: JSONValue
        do {
            body = try StatusClient(socketPath: path).get("/v1/status")
        } catch {
            printError("tiledrop status: cannot reach the daemon at \(path): \(error). Is `tiledrop run` running with the same --root?")
            return ExitCode.unavailable
        }
        if args.has("--json") {
            print(JSONWriter.string(body))
        } else {
            print(humanReadable(body))
        }
        return ExitCode.ok
    }

    static func humanReadable(_ s: JSONValue) -> String {
        func counts(_ key: String, _ order: [String]) -> String {
            order.map { "\(s[key]?[$0]?.intValue ?? 0) \($0)" }.joined(separator: ", ")
        }
        let uptime = Int(s["uptime"]?.doubleValue ?? 0)
        let maps = s["maps"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var lines = [
            "tiledrop \(s["version"]?.stringValue ?? "?") — up \(uptime / 3600)h \(uptime / 60 % 60)m \(uptime % 60)s, pid \(s["pid"]?.intValue ?? 0), root \(s["root"]?.stringValue ?? "?")",
            "maps (\(maps.count)): \(maps.isEmpty ? "none yet; create a folder under drop/" : maps.joined(separator: ", "))",
            "ingests: " + counts("ingests", ["completed", "failed", "processing", "upload", "canceled"]),
            "jobs:    " + counts("jobs", ["success", "failed", "processing", "queued"]),
            "files settling: \(s["settling"]?.intValue ?? 0), queued: \(s["queued_drops"]?.intValue ?? 0)\(s["paused"]?.boolValue == true ? " (PAUSED: low disk space)" : "")",
        ]
        for w in s["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [] { lines.append("warning: \(w)") }
        return lines.joined(separator: "\n")
    }
}

/// An HTTP/1.1 client for the status socket: one GET per connection.
struct StatusClient {
    var socketPath: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func get(_ path: String) throws -> JSONValue {
        let socket = try UnixSocket.connect(path: socketPath)
        defer { socket.close() }
        try socket.sendAll(Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
        var response: [UInt8] = []
        while true {
            let chunk = try socket.receive()
            if chunk.isEmpty { break }
            response += chunk
            if response.count > 64 << 20 { throw Failure(description: "response larger than 64 MiB") }
        }
        guard let split = firstIndex(of: [13, 10, 13, 10], in: response) else { throw Failure(description: "malformed HTTP response") }
        let head = String(decoding: response[..<split], as: UTF8.self)
        let body = Array(response[(split + 4)...])
        guard head.hasPrefix("HTTP/1.1 200") else {
            let message = (try? JSONParser.parse(body))?["message"]?.stringValue ?? head
            throw Failure(description: message)
        }
        return try JSONParser.parse(body)
    }

    private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
