import GeoModel

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
