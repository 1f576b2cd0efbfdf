/// The request target split and percent-decoded (RFC 3986 §2.1, RFC 9112 §3.2).
///
/// Refuses what no route should ever see: `%00`, a `.` or `..` segment, an encoded `/`,
/// invalid UTF-8, or a segment longer than `maxSegmentBytes` — each a 400 naming the problem.
struct RequestTarget {
    static let maxSegmentBytes = 1024

    var path: String
    var segments: [String]
    var query: QueryItems

    init(_ target: String) throws(HTTPError) {
        guard target.hasPrefix("/") else {
            throw HTTPError(400, "the request target must be an absolute path such as /v1/status, not '\(target.prefix(64))'")
        }
        let bytes = Array(target.utf8)
        let questionMark = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        var segments: [String] = []
        for raw in bytes[1..<questionMark].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            let decoded = try Self.decode(raw, plusIsSpace: false, what: "path")
            if decoded.contains(UInt8(ascii: "/")) {
                throw HTTPError(400, "a path segment contains an encoded '/' (%2F); send ids unencoded")
            }
            guard decoded.count <= Self.maxSegmentBytes else {
                throw HTTPError(400, "a path segment is longer than \(Self.maxSegmentBytes) bytes")
            }
            guard let text = String(validating: decoded, as: UTF8.self) else {
                throw HTTPError(400, "the path is not valid UTF-8 after percent-decoding")
            }
            if text == "." || text == ".." {
                throw HTTPError(400, "'.' and '..' path segments are not allowed")
            }
            segments.append(text)
        }
        // "/a/b/" has a trailing empty segment; "/" has none.
        if segments.last == "" { segments.removeLast() }
        if segments.contains("") { throw HTTPError(400, "empty path segment ('//') in '\(target.prefix(64))'") }
        self.segments = segments
        path = "/" + segments.joined(separator: "/")
        var items: [(name: String, value: String)] = []
        if questionMark < bytes.count {
            for pair in bytes[(questionMark + 1)...].split(separator: UInt8(ascii: "&")) {
                let eq = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                let name = try Self.text(pair[pair.startIndex..<eq])
                let value = eq < pair.endIndex ? try Self.text(pair[(eq + 1)...]) : ""
                items.append((name, value))
            }
        }
        query = QueryItems(items)
    }

    private static func text(_ raw: ArraySlice<UInt8>) throws(HTTPError) -> String {
        let decoded = try decode(raw, plusIsSpace: true, what: "query")
        guard let s = String(validating: decoded, as: UTF8.self) else {
            throw HTTPError(400, "the query is not valid UTF-8 after percent-decoding")
        }
        return s
    }

    /// Percent-decodes `raw`; `+` is a space in queries (HTML form encoding).
    static func decode(_ raw: ArraySlice<UInt8>, plusIsSpace: Bool, what: String) throws(HTTPError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let b = raw[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < raw.endIndex, let hi = hex(raw[i + 1]), let lo = hex(raw[i + 2]) else {
                    throw HTTPError(400, "bad percent-encoding in the \(what): '%' must be followed by two hex digits")
                }
                let value = hi << 4 | lo
                if value == 0 { throw HTTPError(400, "%00 (a NUL byte) is not allowed in the \(what)") }
                out.append(value)
                i += 3
            } else if b == 0 || b < 0x20 || b == 0x7F {
                throw HTTPError(400, "control characters are not allowed in the \(what)")
            } else {
                out.append(plusIsSpace && b == UInt8(ascii: "+") ? 0x20 : b)
                i += 1
            }
        }
        return out
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }
}
