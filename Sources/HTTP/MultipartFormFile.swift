#if canImport(Glibc)
import Glibc
#endif

/// One file field of a `multipart/form-data` body (RFC 7578), copied out to a file descriptor.
///
/// The body is read in 256 KiB blocks (from memory or from the server's temporary file) and
/// scanned for the delimiter `CRLF--boundary` (RFC 2046 §5.1.1); only a delimiter's length of
/// bytes is ever held back, so a multi-gigabyte upload costs a fixed amount of memory. Part
/// headers are bounded (`maxHeaderBytes`). A body without the field, with a truncated part or
/// without the closing delimiter is refused with a 400 saying what is wrong.
public struct MultipartFormFile: Sendable, Equatable {
    /// The `filename` parameter of the part's `Content-Disposition`, if any.
    public var filename: String?
    /// Bytes written to the output.
    public var size: Int64

    /// The boundary parameter of a `multipart/form-data` `Content-Type` (RFC 2046 §5.1.1).
    public static func boundary(contentType: String?) throws(HTTPError) -> String {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else {
            throw HTTPError(400, "the body must be multipart/form-data with the file in the field 'file' (curl -F file=@data.geojsonl); Content-Type was \(contentType ?? "missing")")
        }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(" \t") }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].count >= 2 && pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") ? String(pair[1].dropFirst().dropLast()) : pair[1]
            guard (1...70).contains(value.utf8.count) else { break }
            return value
        }
        throw HTTPError(400, "multipart/form-data Content-Type without a valid boundary (1 to 70 characters)")
    }

    /// Copies the content of the first part named `field` from `body` into `output`.
    public static func extract(field: String, from body: RequestBody, boundary: String, into output: Int32,
                               maxHeaderBytes: Int = 16 * 1024) throws(HTTPError) -> MultipartFormFile {
        var scanner = Scanner(delimiter: Array("\r\n--\(boundary)".utf8), body: body)
        defer { scanner.close() }
        // The first delimiter may open the body without a preceding CRLF.
        scanner.buffer = [13, 10]
        guard try scanner.skipToDelimiter(copyingTo: nil) else {
            throw HTTPError(400, "multipart body without the boundary from its Content-Type; send the file with curl -F file=@FILE")
        }
        while true {
            guard let after = try scanner.take(2) else { throw truncated }
            if after == [45, 45] { break }  // "--": the closing delimiter
            guard after == [13, 10] else { throw HTTPError(400, "malformed multipart body: a boundary line must end with CRLF") }
            let headers = try scanner.headers(maxBytes: maxHeaderBytes)
            let disposition = Disposition(headers["content-disposition"] ?? "")
            let wanted = disposition.name == field
            var written: Int64 = 0
            let found = try scanner.skipToDelimiter(copyingTo: wanted ? { bytes throws(HTTPError) in
                try RequestBody.writeAll(bytes, to: output)
                written += Int64(bytes.count)
            } : nil)
            guard found else { throw truncated }
            if wanted { return MultipartFormFile(filename: disposition.filename, size: written) }
        }
        throw HTTPError(400, "the multipart body has no field named '\(field)'; send the file with curl -F \(field)=@FILE")
    }

    private static let truncated = HTTPError(400, "truncated multipart body: the closing boundary is missing; send the whole file again")

    /// The `name` and `filename` parameters of a `Content-Disposition: form-data` header.
    struct Disposition {
        var name: String?
        var filename: String?

        init(_ header: String) {
            for parameter in header.split(separator: ";").dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(" \t") }
                guard pair.count == 2 else { continue }
                let value = pair[1].count >= 2 && pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") ? String(pair[1].dropFirst().dropLast()) : pair[1]
                switch pair[0].lowercased() {
                case "name": name = value
                case "filename": filename = value
                default: break
                }
            }
        }
    }

    /// A window over the body that finds delimiters across block borders.
    struct Scanner {
        let delimiter: [UInt8]
        let body: RequestBody
        var buffer: [UInt8] = []
        var start = 0
        var fd: Int32 = -1
        var memoryServed = false
        var finished = false

        init(delimiter: [UInt8], body: RequestBody) {
            self.delimiter = delimiter
            self.body = body
        }

        mutating func close() {
            if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        }

        /// Appends the next block of the body; false at its end.
        mutating func fill() throws(HTTPError) -> Bool {
            if finished { return false }
            if start > 0 && start * 2 >= buffer.count {
                buffer.removeFirst(start)
                start = 0
            }
            switch body {
            case .none:
                finished = true
                return false
            case .bytes(let bytes):
                finished = true
                if memoryServed || bytes.isEmpty { return false }
                memoryServed = true
                buffer.append(contentsOf: bytes)
                return true
            case .file(let path, _):
                if fd < 0 {
                    fd = try RequestBody.openStoredBody(path)
                }
                var block = [UInt8](repeating: 0, count: 256 * 1024)
                while true {
                    let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    guard n >= 0 else { throw HTTPError(500, "cannot read the uploaded body: \(String(cString: strerror(errno)))") }
                    if n == 0 { finished = true; return false }
                    buffer.append(contentsOf: block[0..<n])
                    return true
                }
            }
        }

        /// The next `count` bytes, or nil at the end of the body.
        mutating func take(_ count: Int) throws(HTTPError) -> [UInt8]? {
            while buffer.count - start < count {
                guard try fill() else { return nil }
            }
            defer { start += count }
            return Array(buffer[start..<(start + count)])
        }

        /// Position of `needle` in the unread buffer, or nil.
        func find(_ needle: [UInt8]) -> Int? {
            guard buffer.count - start >= needle.count else { return nil }
            var i = start
            let last = buffer.count - needle.count
            while i <= last {
                guard let candidate = buffer[i...last].firstIndex(of: needle[0]) else { return nil }
                if buffer[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate }
                i = candidate + 1
            }
            return nil
        }

        /// Moves past the next delimiter, handing the bytes before it to `copy`; false when
        /// the body ends first.
        mutating func skipToDelimiter(copyingTo copy: ((ArraySlice<UInt8>) throws(HTTPError) -> Void)?) throws(HTTPError) -> Bool {
            while true {
                if let at = find(delimiter) {
                    try copy?(buffer[start..<at])
                    start = at + delimiter.count
                    return true
                }
                // Everything except a possible delimiter prefix at the end is content.
                let keep = min(delimiter.count - 1, buffer.count - start)
                let safe = buffer.count - keep
                if safe > start {
                    try copy?(buffer[start..<safe])
                    start = safe
                }
                guard try fill() else { return false }
            }
        }

        /// Reads part headers up to the blank line; names lowercased.
        mutating func headers(maxBytes: Int) throws(HTTPError) -> [String: String] {
            let end: Int
            while true {
                if buffer.count - start >= 2 && buffer[start] == 13 && buffer[start + 1] == 10 {
                    start += 2
                    return [:]
                }
                if let at = find([13, 10, 13, 10]) { end = at; break }
                guard buffer.count - start <= maxBytes else {
                    throw HTTPError(400, "multipart part headers longer than \(maxBytes) bytes")
                }
                guard try fill() else { throw HTTPError(400, "truncated multipart body: a part's headers never end") }
            }
            guard end - start <= maxBytes else { throw HTTPError(400, "multipart part headers longer than \(maxBytes) bytes") }
            let text = String(decoding: buffer[start..<end], as: UTF8.self)
            start = end + 4
            var result: [String: String] = [:]
            for line in text.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                result[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(" \t")
            }
            return result
        }
    }
}
