#if canImport(Glibc)
import Glibc
#endif
import Daemon
import Foundation
import GeoModel
import SystemSupport

/// `tiledrop status [--root DIR | --socket PATH] [--json] [--watch]`: asks the running daemon.
enum StatusCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, .status) else { return ExitCode.usage }
        guard let config = loadConfiguration(args, command: "status") else { return ExitCode.config }
        let path = args.value("--socket") ?? config.socketPath
        let interval = args.value("--interval").map { Double($0) ?? -1 } ?? 1
        guard interval >= 0.1 else { return fail("status: --interval must be a number of seconds ≥ 0.1", code: ExitCode.usage) }
        let client = StatusClient(socketPath: path)
        var first = true
        repeat {
            let body: JSONValue
            do {
                body = try client.get("/v1/status")
            } catch {
                printError("tiledrop status: cannot reach the daemon at \(path): \(error). Is `tiledrop run` running with the same --root?")
                return ExitCode.unavailable
            }
            if args.has("--json") {
                print(JSONWriter.string(body))
            } else {
                // On a terminal each redraw replaces the last; into a pipe, blocks are separated.
                if args.has("--watch") { print(isatty(1) != 0 ? "\u{1B}[H\u{1B}[2J" : (first ? "" : "\n---\n"), terminator: "") }
                print(humanReadable(body))
            }
            first = false
            fflush(nil)
            if args.has("--watch") { usleep(useconds_t(interval * 1_000_000)) }
        } while args.has("--watch")
        return ExitCode.ok
    }

    static func humanReadable(_ s: JSONValue) -> String {
        func counts(_ key: String, _ order: [String]) -> String {
            order.map { "\(s[key]?[$0]?.intValue ?? 0) \($0)" }.joined(separator: ", ")
        }
        func percent(_ v: JSONValue?) -> String { "\(Int(((v?.doubleValue ?? 0) * 100).rounded())) %" }
        let uptime = Int(s["uptime"]?.doubleValue ?? 0)
        let maps = s["maps"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var lines = [
            "tiledrop \(s["version"]?.stringValue ?? "?") — up \(uptime / 3600)h \(uptime / 60 % 60)m \(uptime % 60)s, pid \(s["pid"]?.intValue ?? 0), root \(s["root"]?.stringValue ?? "?")",
            "maps (\(maps.count)): \(maps.isEmpty ? "none yet; create a folder under drop/" : maps.joined(separator: ", "))",
            "ingests: " + counts("ingests", ["completed", "failed", "processing", "upload", "canceled"]),
            "jobs:    " + counts("jobs", ["success", "failed", "processing", "queued"]),
            "files settling: \(s["settling"]?.intValue ?? 0), queued: \(s["queued_drops"]?.intValue ?? 0)\(s["paused"]?.boolValue == true ? " (PAUSED: low disk space)" : "")",
        ]
        for i in s["active"]?["ingests"]?.arrayValue ?? [] {
            lines.append("  converting \(i["filename"]?.stringValue ?? "?") into map \(i["map"]?.stringValue ?? "?"): \(percent(i["progress"]))")
        }
        if let job = s["active"]?["job"], job != .null {
            lines.append("  publishing \(job["tileset"]?.stringValue ?? "?"): \(percent(job["progress"])) after \(job["seconds"]?.doubleValue ?? 0) s")
        }
        if let queued = s["active"]?["queued_jobs"]?.arrayValue, !queued.isEmpty {
            lines.append("  waiting to publish: " + queued.compactMap(\.stringValue).joined(separator: ", "))
        }
        if let last = s["last_job"], last != .null {
            lines.append("last publish: \(last["tileset"]?.stringValue ?? "?") \(last["stage"]?.stringValue ?? "?")\(last["published"]?.stringValue.map { " at \($0)" } ?? "")")
            if let m = last["memory"], let budget = m["budget_bytes"]?.intValue, let peak = m["peak_bytes"]?.intValue {
                let rss = m["peak_rss_bytes"]?.intValue.map { ", process peak RSS \($0 / 1_000_000) MB" } ?? ""
                lines.append("  memory: tiler peak \(peak / 1_000_000) MB of a \(budget / 1_000_000) MB budget\(rss)")
            }
            for e in last["errors"]?.arrayValue?.compactMap(\.stringValue) ?? [] { lines.append("  error: \(e)") }
            for w in last["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [] { lines.append("  warning: \(w)") }
        }
        for r in s["recipes"]?.arrayValue ?? [] where r["valid"]?.boolValue == false {
            let errors = r["errors"]?.arrayValue?.compactMap(\.stringValue).joined(separator: "; ") ?? ""
            lines.append("recipe \(r["tileset"]?.stringValue ?? "?") is INVALID (in use: \(r["in_use"]?.stringValue ?? "none")): \(errors)")
        }
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

    /// A response: status code and parsed JSON body.
    struct Answer {
        var status: Int
        var body: JSONValue
    }

    /// GET `path`; throws unless the answer is 200.
    func get(_ path: String) throws -> JSONValue {
        let answer = try request("GET", path)
        guard answer.status == 200 else {
            throw Failure(description: answer.body["message"]?.stringValue ?? "HTTP \(answer.status)")
        }
        return answer.body
    }

    /// Sends one request and returns the status and JSON body, whatever the status.
    func request(_ method: String, _ path: String) throws -> Answer {
        let socket = try UnixSocket.connect(path: socketPath)
        defer { socket.close() }
        try socket.sendAll(Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        var response: [UInt8] = []
        while true {
            let chunk = try socket.receive()
            if chunk.isEmpty { break }
            response += chunk
            if response.count > 64 << 20 { throw Failure(description: "response larger than 64 MiB") }
        }
        guard let split = firstIndex(of: [13, 10, 13, 10], in: response) else { throw Failure(description: "malformed HTTP response") }
        let head = String(decoding: response[..<split], as: UTF8.self)
        let fields = head.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, let status = Int(fields[1]) else { throw Failure(description: "malformed HTTP status line '\(head.prefix(80))'") }
        let body = Array(response[(split + 4)...])
        return Answer(status: status, body: (try? JSONParser.parse(body)) ?? .null)
    }

    /// Percent-encodes one path segment (a tileset name may hold spaces or non-ASCII letters).
    static func escape(_ segment: String) -> String {
        var out = ""
        for b in segment.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80, c.isLetter || c.isNumber || c == "-" || c == "_" || c == "." || c == "~" { out.append(c) } else { out += String(format: "%%%02X", b) }
        }
        return out
    }

    private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
