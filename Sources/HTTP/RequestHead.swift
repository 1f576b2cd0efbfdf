/// How a request's body is delimited (RFC 9112 §6.3).
enum BodyFraming: Equatable {
    case none
    case length(Int64)
    case chunked
}

/// A request line and header section (RFC 9112 §3, §5), before the body.
struct RequestHead {
    var method: String
    var target: String
    var isHTTP10: Bool
    var headers: HTTPHeaders
    var framing: BodyFraming

    /// Limits on a request head; beyond them the answer is 414 or 431.
    struct Limits {
        var maxHeadBytes = 16 * 1024
        var maxRequestLineBytes = 8 * 1024
        var maxHeaderCount = 100
    }

    /// Parses one head from the front of `bytes`; nil while incomplete. `scanned` remembers how
    /// far a previous call looked, so a head that arrives a byte at a time is not rescanned.
    /// Returns the head and the number of bytes it used.
    static func parse(_ bytes: ArraySlice<UInt8>, scanned: inout Int, limits: Limits) throws(HTTPError) -> (RequestHead, Int)? {
        var start = bytes.startIndex
        // RFC 9112 §2.2: ignore empty lines before the request line.
        while start < bytes.endIndex, bytes[start] == 13 || bytes[start] == 10 { start += 1 }
        guard start < bytes.endIndex else { return nil }
        var end: Int?
        var i = max(start, bytes.startIndex + scanned - 3)
        while i < bytes.endIndex {
            if bytes[i] == 10 {
                let next = i + 1
                if next < bytes.endIndex && bytes[next] == 10 { end = next + 1; break }
                if next + 1 < bytes.endIndex && bytes[next] == 13 && bytes[next + 1] == 10 { end = next + 2; break }
            }
            i += 1
        }
        guard let end else {
            scanned = bytes.count
            if bytes.count - (start - bytes.startIndex) > limits.maxHeadBytes {
                if !bytes[start...].contains(10) && bytes.count > limits.maxRequestLineBytes {
                    throw HTTPError(414, "request line longer than \(limits.maxRequestLineBytes) bytes; shorten the URL", closesConnection: true)
                }
                throw HTTPError(431, "request head larger than \(limits.maxHeadBytes / 1024) KiB; send fewer or shorter headers", closesConnection: true)
            }
            return nil
        }
        guard end - start <= limits.maxHeadBytes + 2 else {
            throw HTTPError(431, "request head larger than \(limits.maxHeadBytes / 1024) KiB; send fewer or shorter headers", closesConnection: true)
        }
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = start
        for j in start..<end where bytes[j] == 10 {
            var line = bytes[lineStart..<j]
            if line.last == 13 { line = line.dropLast() }
            lines.append(line)
            lineStart = j + 1
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        let head = try make(lines, limits: limits)
        return (head, end - bytes.startIndex)
    }

    private static func make(_ lines: [ArraySlice<UInt8>], limits: Limits) throws(HTTPError) -> RequestHead {
        let requestLine = lines[0]
        guard requestLine.count <= limits.maxRequestLineBytes else {
            throw HTTPError(414, "request line longer than \(limits.maxRequestLineBytes) bytes; shorten the URL", closesConnection: true)
        }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte), !parts[1].isEmpty,
              parts[1].allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw HTTPError(400, "malformed request line; expected 'METHOD /path HTTP/1.1'", closesConnection: true)
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            if version.hasPrefix("HTTP/") { throw HTTPError(505, "only HTTP/1.1 and HTTP/1.0 are supported, not \(version)", closesConnection: true) }
            throw HTTPError(400, "malformed request line; expected 'METHOD /path HTTP/1.1'", closesConnection: true)
        }
        guard lines.count - 1 <= limits.maxHeaderCount else {
            throw HTTPError(431, "more than \(limits.maxHeaderCount) header fields", closesConnection: true)
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let first = line.first, first != 0x20, first != 0x09 else {
                throw HTTPError(400, "obsolete line folding in a header is not accepted (RFC 9112 §5.2)", closesConnection: true)
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy(isTokenByte) else {
                throw HTTPError(400, "malformed header line; expected 'Name: value'", closesConnection: true)
            }
            let value = line[(colon + 1)...]
            guard !value.contains(where: { $0 == 0 || $0 == 13 || $0 == 10 }) else {
                throw HTTPError(400, "control characters in a header value", closesConnection: true)
            }
            headers.add(String(decoding: line[line.startIndex..<colon], as: UTF8.self),
                        String(decoding: value, as: UTF8.self).trimmingCharacters(" \t"))
        }
        let isHTTP10 = version == "HTTP/1.0"
        return RequestHead(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
                           isHTTP10: isHTTP10, headers: headers, framing: try framing(headers, isHTTP10: isHTTP10))
    }

    /// RFC 9112 §6.1–6.3; both `Transfer-Encoding` and `Content-Length` is refused (request smuggling).
    private static func framing(_ headers: HTTPHeaders, isHTTP10: Bool) throws(HTTPError) -> BodyFraming {
        let encodings = headers.values("Transfer-Encoding")
        let lengths = headers.values("Content-Length")
        if !encodings.isEmpty {
            guard lengths.isEmpty else {
                throw HTTPError(400, "both Transfer-Encoding and Content-Length were sent; send one", closesConnection: true)
            }
            let codings = encodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(" \t").lowercased() }
            guard codings == ["chunked"], !isHTTP10 else {
                throw HTTPError(501, "only 'Transfer-Encoding: chunked' is supported", closesConnection: true)
            }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        let values = Set(lengths.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(" \t") })
        guard values.count == 1, let text = values.first, !text.isEmpty, text.count <= 18,
              text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int64(text) else {
            throw HTTPError(400, "invalid Content-Length '\(first.prefix(32))'", closesConnection: true)
        }
        return n == 0 ? .none : .length(n)
    }

    /// `tchar` (RFC 9110 §5.6.2).
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }
}
