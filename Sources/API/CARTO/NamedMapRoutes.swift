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
struct NamedMapRoutes: Sendable {
    let backend: any Backend
    let carto: any CartoBackend
    let registry: LayerGroupRegistry

    func register(on router: inout Router, prefix p: String) {
        let body = RouteOptions(maxBodyBytes: Int64(MapConfig.maxBodyBytes))
        router.post(p + "/named", options: body) { r in self.handle(r, manage: true) { try self.create(r) } }
        router.get(p + "/named") { r in self.handle(r, manage: true) { try self.list() } }
        router.get(p + "/named/{name}") { r in self.handle(r, manage: true) { try self.get(r.parameter("name")) } }
        router.put(p + "/named/{name}", options: body) { r in self.handle(r, manage: true) { try self.update(r) } }
        router.delete(p + "/named/{name}") { r in self.handle(r, manage: true) { try self.delete(r.parameter("name")) } }
        router.post(p + "/named/{name}", options: body) { r in self.handle(r, manage: false) { try self.instantiate(r) } }
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
        if !template.admits(r.query["auth_token"]) {
            do { try CartoRoutes.requireWrite(r, body: parameters.map(JSONValue.object), backend: backend) } catch {
                throw CartoRequestError(status: 403, "Unauthorized template instantiation: send one of the template's valid_tokens as auth_token", type: "auth")
            }
        }
        let group = try registry.instantiate(try template.config(parameters: parameters))
        return JSONResponse.make(200, LayerGroupAnswer(group: group, base: CartoRoutes.base(r, backend: backend)).json)
    }

    /// The body without the SDK's `api_key` and `client` members, which are not template fields.
    private static func withoutCredentials(_ json: JSONValue) -> JSONValue {
        guard case .object(let o) = json else { return json }
        var out = JSONObject()
        for m in o where m.key != "api_key" && m.key != "client" { out[m.key] = m.value }
        return .object(out)
    }
}
