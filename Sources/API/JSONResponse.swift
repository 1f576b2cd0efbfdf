import GeoModel
import HTTP

/// JSON bodies for the routes (`application/json`, one trailing newline).
enum JSONResponse {
    static func make(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> Response {
        var w = JSONWriter()
        w.write(value)
        w.bytes.append(0x0A)
        var response = Response(status: status, contentType: "application/json", bytes: w.bytes)
        for (name, value) in headers { response.headers.add(name, value) }
        return response
    }
}
