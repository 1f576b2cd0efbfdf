import GeoModel

/// A minimal HTTP/1.1 request, as the status socket needs: method, path, query.
struct HTTPRequest: Equatable {
    var method: String
    var path: String
    var query: [String: String]

    /// The largest request head accepted; status requests are tiny.
    static let maxHeadBytes = 16 * 1024

    /// Parses a request head (`METHOD /path?query HTTP/1.1` + headers); nil when malformed.
    init?(head: [UInt8]) {
        guard let text = String(validating: head, as: UTF8.self),
              let firstLine = text.split(separator: "\r\n", maxSplits: 1).first ?? text.split(separator: "\n").first else { return nil }
        let parts = firstLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        method = String(parts[0])
        let target = parts[1]
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(pieces[0])
        query = [:]
        if pieces.count == 2 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[String(kv[0])] = kv.count == 2 ? String(kv[1]) : ""
            }
        }
    }

    /// True when `bytes` holds a complete request head.
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return true
        }
        return false
    }
}

/// A JSON response with its status line.
struct HTTPResponse {
    var status: Int
    var body: JSONValue

    static func error(_ status: Int, _ message: String) -> HTTPResponse {
        HTTPResponse(status: status, body: ["message": .string(message)])
    }

    var reason: String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        default: "Internal Server Error"
        }
    }

    /// The full response bytes (`Connection: close`; one request per connection).
    var bytes: [UInt8] {
        var w = JSONWriter()
        w.write(body)
        w.bytes.append(0x0A)
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(w.bytes.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + w.bytes
    }
}
