import GeoModel
import HTTP

/// Why a CARTO request is refused, answered in CARTO's error shape:
/// `{"errors": ["…"], "errors_with_context": [{"type": …, "message": …}]}`.
struct CartoRequestError: Error, Sendable, Equatable {
    var status: Int
    var message: String
    /// `errors_with_context[].type`: `unknown`, `layer`, `limit`, `auth`, `tile`.
    var type: String
    /// The layer a config error is about (`errors_with_context[].layer.index`).
    var layer: Int?

    init(status: Int, _ message: String, type: String = "unknown", layer: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.layer = layer
    }

    /// 400: the request (config, template, parameters) is not acceptable.
    static func invalid(_ message: String, layer: Int? = nil) -> CartoRequestError {
        CartoRequestError(status: 400, message, type: layer == nil ? "unknown" : "layer", layer: layer)
    }

    static func notFound(_ message: String) -> CartoRequestError {
        CartoRequestError(status: 404, message, type: "unknown")
    }

    /// The response body and status, as CARTO's Maps API answers errors.
    var response: Response {
        var context = JSONObject()
        context["type"] = .string(type)
        context["message"] = .string(message)
        if let layer {
            var l = JSONObject()
            l["index"] = .int(Int64(layer))
            context["layer"] = .object(l)
        }
        var o = JSONObject()
        o["errors"] = .array([.string(message)])
        o["errors_with_context"] = .array([.object(context)])
        return JSONResponse.make(status, .object(o))
    }
}
