import Foundation
import GeoModel
import HTTP

/// CARTO's Maps API (seeds/003): anonymous maps (`POST /api/v1/map`, or `GET` with
/// `?config=` and optional JSONP `callback`), their tiles, attributes and static previews,
/// and named maps (`NamedMapRoutes`). Every route is served both at `/api/v1/map…` and at
/// `/user/{username}/api/v1/map…`, the base URL CARTO clients build.
///
/// Instantiating needs a token with the scope `maps:write` (`api_key` in the query string or,
/// as the `carto` SDK sends it, as a member of the JSON body; its `client` member is ignored)
/// or the local admin. Tiles of an instantiated group are then readable by anyone who knows its
/// id, as CARTO's anonymous maps are. Errors are CARTO's `{"errors": [...]}`.
struct CartoRoutes: Sendable {
    let backend: any Backend
    let registry: LayerGroupRegistry
    let tiles: LayerGroupTileRoutes
    let named: NamedMapRoutes
    /// The scope that lets a token instantiate and manage maps.
    static let writeScope = "maps:write"
    /// Where the routes are mounted; `{username}` is accepted and not checked against `owner`
    /// (tiledrop serves one account).
    static let prefixes = ["/api/v1/map", "/user/{username}/api/v1/map"]

    init(backend: any Backend, carto: any CartoBackend, cache: RasterTileCache) {
        self.backend = backend
        registry = LayerGroupRegistry(backend: backend, carto: carto)
        let files = TilesetFiles(backend: backend)
        tiles = LayerGroupTileRoutes(backend: backend, registry: registry, tiles: LayerGroupTiles(files: files), cache: cache)
        named = NamedMapRoutes(backend: backend, carto: carto, registry: registry, tiles: tiles)
    }

    func register(on router: inout Router) {
        let shape: ErrorShape = { status, message in CartoRequestError(status: status, message).response }
        router.setErrorShape(prefix: "/api/v1/map", shape)
        router.setErrorShape(prefix: "/user/", shape)
        let body = RouteOptions(maxBodyBytes: Int64(MapConfig.maxBodyBytes))
        for p in Self.prefixes {
            router.post(p, options: body) { self.instantiate($0) { r throws(HTTPError) in try ServiceKit.jsonBody(r, maxBytes: MapConfig.maxBodyBytes) } }
            router.get(p) { request in
                self.instantiate(request) { r throws(HTTPError) in
                    guard let text = r.query["config"], !text.isEmpty else { throw HTTPError(400, "Missing config parameter: pass the MapConfig as ?config=") }
                    guard text.utf8.count <= MapConfig.maxBodyBytes else { throw HTTPError(400, "The config parameter is too large") }
                    do { return try JSONParser.parse(text) } catch { throw HTTPError(400, "The config parameter is not valid JSON: \(error)") }
                }
            }
            tiles.register(on: &router, prefix: p)
            named.register(on: &router, prefix: p)
        }
    }

    /// Instantiates the MapConfig that `config` reads from the request.
    private func instantiate(_ request: Request, config read: (Request) throws(HTTPError) -> JSONValue) -> Response {
        let callback = request.query["callback"]
        if let callback, !Self.isCallbackName(callback) {
            return CartoRequestError.invalid("Invalid callback name: use letters, digits, '_', '$' and '.'").response
        }
        do throws(CartoRequestError) {
            let json: JSONValue
            do { json = try read(request) } catch { throw CartoRequestError(status: error.status, error.message) }
            try Self.requireWrite(request, body: json, backend: backend)
            let config = try MapConfig.parse(json)
            let group = try registry.instantiate(config)
            backend.logInfo("CARTO layer group \(group.id) instantiated (\(config.layers.count) layers)")
            let answer = LayerGroupAnswer(group: group, base: Self.base(request, backend: backend)).json
            return Self.respond(200, answer, callback: callback)
        } catch {
            return Self.respond(error.status, error.response, callback: callback)
        }
    }

    /// 401/403 unless the request is the local admin's or carries a token with `maps:write`,
    /// in the query (`api_key`), the headers, or the JSON body's `api_key` member.
    static func requireWrite(_ request: Request, body: JSONValue?, backend: any Backend) throws(CartoRequestError) {
        var r = request
        if r.query["api_key"] == nil, case .string(let key)? = body?["api_key"] { r.query.items.append(("api_key", key)) }
        if case .failure(let f) = backend.authenticator.require(writeScope, of: r) {
            throw CartoRequestError(status: f.status, f.status == 401 ? "Unauthorized. \(f.message): send an api_key with the scope \(writeScope)" : f.message, type: "auth")
        }
    }

    /// `scheme://host[/user/{username}]/api/v1/map`: where this request's URLs point.
    static func base(_ request: Request, backend: any Backend) -> String {
        var base = backend.publicURL(for: request)
        if request.segments.first == "user", request.segments.count > 1 {
            let user = request.segments[1]
            base += "/user/" + (user.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? "")
        }
        return base + "/api/v1/map"
    }

    /// JSONP callbacks are JavaScript names: anything else could inject script.
    static func isCallbackName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x24 || c == 0x2E
        }
    }

    /// A JSON answer, or with `callback` the JSONP script CARTO sends (`callback(json);`).
    static func respond(_ status: Int, _ value: JSONValue, callback: String?) -> Response {
        guard let callback else { return JSONResponse.make(status, value) }
        var w = JSONWriter()
        w.write(value)
        let script = Array("/**/ typeof \(callback) === 'function' && \(callback)(".utf8) + w.bytes + Array(");\n".utf8)
        // JSONP answers are 200 whatever happened: a script tag cannot read the status.
        return Response(status: 200, contentType: "text/javascript; charset=utf-8", bytes: script)
    }

    static func respond(_ status: Int, _ error: Response, callback: String?) -> Response {
        guard let callback, case .bytes(let body) = error.body, let json = try? JSONParser.parse(body) else { return error }
        return respond(status, json, callback: callback)
    }
}
