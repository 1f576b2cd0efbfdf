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
