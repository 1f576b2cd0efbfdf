#if canImport(Glibc)
import Glibc
#endif

/// An open file (or a range of it) sent as a response body with `sendfile(2)`.
///
/// Owns the descriptor and closes it when the response is done, so a file replaced
/// (renamed over) while it is being sent still goes out whole from the old inode.
public final class FileBody: @unchecked Sendable {
    public let fileDescriptor: Int32
    public let offset: Int64
    public let length: Int64

    /// Takes ownership of `fileDescriptor`.
    public init(fileDescriptor: Int32, offset: Int64 = 0, length: Int64) {
        self.fileDescriptor = fileDescriptor
        self.offset = offset
        self.length = length
    }

    deinit { _ = close(fileDescriptor) }
}

/// What a response carries after its head.
public enum ResponseBody: Sendable {
    case bytes([UInt8])
    case file(FileBody)

    public var count: Int64 {
        switch self {
        case .bytes(let b): Int64(b.count)
        case .file(let f): f.length
        }
    }
}

/// A response: status, headers and a body with a known length (sent with `Content-Length`).
public struct Response: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: ResponseBody

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: ResponseBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with `bytes` and their `Content-Type`.
    public init(status: Int, contentType: String, bytes: [UInt8]) {
        self.init(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: .bytes(bytes))
    }

    /// `{"message": "…"}` — the error shape the Mapbox APIs (and the status socket) use.
    public static func message(_ status: Int, _ text: String) -> Response {
        Response(status: status, contentType: "application/json", bytes: Array("{\"message\":\(jsonString(text))}\n".utf8))
    }

    /// A JSON string literal for `text` (RFC 8259 §7 escaping).
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The status line and headers, with `Content-Length`, `Date` and `Connection` set by the server.
    func head(keepAlive: Bool, date: String) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers.fields where !HTTPHeaders.same(name, "Content-Length") && !HTTPHeaders.same(name, "Connection") {
            text += name + ": " + value + "\r\n"
        }
        if status != 204 && status != 304 && !(100..<200).contains(status) {
            text += "Content-Length: \(body.count)\r\n"
        }
        text += "Date: " + date + "\r\n"
        if !keepAlive { text += "Connection: close\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The reason phrase for `status` (RFC 9110 §15).
    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}

/// The `Date` header value (RFC 9110 §5.6.7 IMF-fixdate), recomputed at most once a second.
struct DateCache {
    private var second: time_t = 0
    private var text = ""

    mutating func now() -> String {
        let t = time(nil)
        if t != second {
            second = t
            var tm = tm()
            var copy = t
            gmtime_r(&copy, &tm)
            var buffer = [CChar](repeating: 0, count: 64)
            let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &tm)
            text = String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text
    }
}
