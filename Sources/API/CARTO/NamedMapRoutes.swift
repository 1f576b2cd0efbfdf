import Foundation
import GeoModel
import HTTP
import Storage

/// CARTO named maps (`carto.maps.NamedMapManager`): templates stored in `state.db` under
/// `{prefix}/named`, and instantiated with parameters into a layer group.
///
/// Managing templates (create, list, get, update, delete) needs `maps:write` (or the local
/// admin). Instantiating (`POST {prefix}/named/{name}`) follows the template's `auth`: `open`
/// lets anyone in; `token` needs one of its `valid_tokens` as `auth_token` (or `maps:write`).
/// The tiles of a template with its defaults are also served directly, at
/// `{prefix}/named/{name}[/{layers_filter}]/{z}/{x}/{y}.{png,mvt}` (the URLs the SDK's
/// `NamedMap.get_tile_url` builds), under the same `auth`.
struct NamedMapRoutes: Sendable {
    let backend: any Backend
    let carto: any CartoBackend
    let registry: LayerGroupRegistry
    let tiles: LayerGroupTileRoutes
    /// The layer group each template's defaults were last instantiated as, by template text.
    private let defaults = NamedMapDefaults()

    init(backend: any Backend, carto: any CartoBackend, registry: LayerGroupRegistry, tiles: LayerGroupTileRoutes) {
        self.backend = backend
        self.carto = carto
        self.registry = registry
        self.tiles = tiles
    }

    func register(on router: inout Router, prefix p: String) {
        let body = RouteOptions(maxBodyBytes: Int64(MapConfig.maxBodyBytes))
        router.post(p + "/named", options: body) { r in self.handle(r, manage: true) { try self.create(r) } }
        router.get(p + "/named") { r in self.handle(r, manage: true) { try self.list() } }
        router.get(p + "/named/{name}") { r in self.handle(r, manage: true) { try self.get(r.parameter("name")) } }
        router.put(p + "/named/{name}", options: body) { r in self.handle(r, manage: true) { try self.update(r) } }
        router.delete(p + "/named/{name}") { r in self.handle(r, manage: true) { try self.delete(r.parameter("name")) } }
        router.post(p + "/named/{name}", options: body) { r in self.handle(r, manage: false) { try self.instantiate(r) } }
        router.get(p + "/named/{name}/{z}/{x}/{tail}") { r in self.handle(r, manage: false) { try self.tile(r, filter: nil) } }
        router.get(p + "/named/{name}/{filter}/{z}/{x}/{tail}") { r in self.handle(r, manage: false) { try self.tile(r, filter: r.parameter("filter")) } }
    }

    /// Runs `body`, after checking `maps:write` when `manage`; errors in CARTO's shape.
    private func handle(_ request: Request, manage: Bool, _ body: () throws -> Response) -> Response {
        do {
            if manage {
                let json = request.method == "GET" || request.method == "DELETE" ? nil : try? ServiceKit.jsonBody(request, maxBytes: MapConfig.maxBodyBytes)
                try CartoRoutes.requireWrite(request, body: json, backend: backend)
            }
            return try body()
        } catch let e as CartoRequestError {
            return e.response
        } catch let e as HTTPError {
            return CartoRequestError(status: e.status, e.message).response
        } catch {
            return CartoRequestError(status: 500, "\(error)").response
        }
    }

    private func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// `{"template_id": name}`, CARTO's answer to create and update.
    private static func templateID(_ name: String) -> Response {
        var o = JSONObject()
        o["template_id"] = .string(name)
        return JSONResponse.make(200, .object(o))
    }

    private func create(_ r: Request) throws -> Response {
        let template = try NamedMapTemplate.parse(Self.withoutCredentials(try ServiceKit.jsonBody(r, maxBytes: MapConfig.maxBodyBytes)))
        let text = JSONWriter.string(template.json)
        guard try carto.insertNamedMap(NamedMapRecord(name: template.name, template: text, created: now(), updated: now())) else {
            throw CartoRequestError.invalid("Template '\(template.name)' of user '\(backend.owner)' already exists")
        }
        backend.logInfo("CARTO named map \(template.name) created")
        return Self.templateID(template.name)
    }

    private func list() throws -> Response {
        var o = JSONObject()
        o["template_ids"] = .array(try carto.namedMaps().map { .string($0.name) })
        return JSONResponse.make(200, .object(o))
    }

    private func stored(_ name: String) throws -> NamedMapTemplate {
        guard NamedMapTemplate.isName(name), let record = try carto.namedMap(name: name) else {
            throw CartoRequestError.notFound("Cannot find template '\(name.prefix(64))' of user '\(backend.owner)'")
        }
        return try NamedMapTemplate.parse(try JSONParser.parse(record.template))
    }

    private func get(_ name: String) throws -> Response {
        var o = JSONObject()
        o["template"] = try stored(name).json
        return JSONResponse.make(200, .object(o))
    }

    private func update(_ r: Request) throws -> Response {
        let name = r.parameter("name")
        let template = try NamedMapTemplate.parse(Self.withoutCredentials(try ServiceKit.jsonBody(r, maxBytes: MapConfig.maxBodyBytes)))
        guard template.name == name else {
            throw CartoRequestError.invalid("Cannot update name of a map template ('\(name.prefix(64))' != '\(template.name)')")
        }
        guard try carto.updateNamedMap(name: name, template: JSONWriter.string(template.json), now: now()) else {
            throw CartoRequestError.notFound("Cannot find template '\(name.prefix(64))' of user '\(backend.owner)'")
        }
        return Self.templateID(name)
    }

    private func delete(_ name: String) throws -> Response {
        guard NamedMapTemplate.isName(name), try carto.deleteNamedMap(name: name) else {
            throw CartoRequestError.notFound("Cannot find template '\(name.prefix(64))' of user '\(backend.owner)'")
        }
        return Response(status: 204)
    }

    /// `POST …/named/{name}[?auth_token=…]` with the placeholder values as a JSON object.
    private func instantiate(_ r: Request) throws -> Response {
        let template = try stored(r.parameter("name"))
        var parameters: JSONObject?
        if r.body.size > 0 {
            guard case .object(let o) = try ServiceKit.jsonBody(r, maxBytes: MapConfig.maxBodyBytes) else {
                throw CartoRequestError.invalid("Template parameters must be a JSON object")
            }
            parameters = o
        }
        try admit(r, to: template, body: parameters.map(JSONValue.object))
        let group = try registry.instantiate(try template.config(parameters: parameters))
        return JSONResponse.make(200, LayerGroupAnswer(group: group, base: CartoRoutes.base(r, backend: backend)).json)
    }

    /// 403 unless the template is open, or the request has one of its `valid_tokens` as
    /// `auth_token`, or `maps:write`.
    private func admit(_ r: Request, to template: NamedMapTemplate, body: JSONValue?) throws {
        guard !template.admits(r.query["auth_token"]) else { return }
        do { try CartoRoutes.requireWrite(r, body: body, backend: backend) } catch {
            throw CartoRequestError(status: 403, "Unauthorized template instantiation: send one of the template's valid_tokens as auth_token", type: "auth")
        }
    }

    /// A tile of the template with its defaults: the layer group is instantiated once per
    /// template text and reused while it lives.
    private func tile(_ r: Request, filter: String?) throws -> Response {
        let name = r.parameter("name")
        let template = try stored(name)
        try admit(r, to: template, body: nil)
        let text = JSONWriter.string(template.json)
        var id = defaults.group(for: name, text: text)
        if id == nil || (try? registry.group(id: id!)) == nil {
            id = try registry.instantiate(try template.config(parameters: nil)).id
            defaults.remember(id!, for: name, text: text)
        }
        return tiles.tile(id: id!, filter: filter, z: r.parameter("z"), x: r.parameter("x"), tail: r.parameter("tail"))
    }

    /// The body without the SDK's `api_key` and `client` members, which are not template fields.
    private static func withoutCredentials(_ json: JSONValue) -> JSONValue {
        guard case .object(let o) = json else { return json }
        var out = JSONObject()
        for m in o where m.key != "api_key" && m.key != "client" { out[m.key] = m.value }
        return .object(out)
    }
}

/// The layer group of each named map's defaults, keyed by the template text it came from.
final class NamedMapDefaults: @unchecked Sendable {
    private let lock = NSLock()
    private var groups: [String: (text: String, id: String)] = [:]

    func group(for name: String, text: String) -> String? {
        lock.withLock { groups[name].flatMap { $0.text == text ? $0.id : nil } }
    }

    func remember(_ id: String, for name: String, text: String) {
        lock.withLock {
            if groups.count >= 1024 { groups.removeAll() }
            groups[name] = (text, id)
        }
    }
}
