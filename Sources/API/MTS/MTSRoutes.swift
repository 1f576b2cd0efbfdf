#if canImport(Glibc)
import Glibc
#endif
import GeoModel
import HTTP
import Storage
import Tiling

/// The Mapbox Tiling Service endpoints (seeds/001) as `mapbox-tilesets` calls them:
/// tileset sources (`/tilesets/v1/sources/…`), tilesets, recipes, publish jobs and the queue.
///
/// A source is a map: an upload is staged in `drop/<id>/` and ingested like a drop (POST
/// appends, PUT replaces). Tilesets are `{owner}.{name}`; the username must be the configured
/// `owner`. Errors are `{"message": …}`; limits and statuses follow the document.
public struct MTSRoutes: Sendable {
    let backend: any MTSBackend
    let access: AccessCheck
    /// Told about every tileset created, updated or deleted, so tile reads apply `private` at once.
    let tilesetChanges: TilesetChanges

    public init(backend: any MTSBackend, access: @escaping AccessCheck) {
        self.init(backend: backend, access: access, tilesetChanges: TilesetChanges())
    }

    init(backend: any MTSBackend, access: @escaping AccessCheck, tilesetChanges: TilesetChanges) {
        self.backend = backend
        self.access = access
        self.tilesetChanges = tilesetChanges
    }

    public func register(on router: inout Router) {
        let upload = RouteOptions(maxBodyBytes: backend.maxUploadBytes + 64 * 1024, long: true)
        let json = RouteOptions(maxBodyBytes: 1 << 20)
        router.post("/tilesets/v1/sources/{username}/{id}", options: upload) { r in self.run(r, "tilesets:write") { try self.upload(r, replace: false) } }
        router.put("/tilesets/v1/sources/{username}/{id}", options: upload) { r in self.run(r, "tilesets:write") { try self.upload(r, replace: true) } }
        router.get("/tilesets/v1/sources/{username}/{id}") { r in self.run(r, "tilesets:read") { try self.source(r) } }
        router.delete("/tilesets/v1/sources/{username}/{id}") { r in self.run(r, "tilesets:write") { try self.deleteSource(r) } }
        router.get("/tilesets/v1/sources/{username}") { r in self.run(r, "tilesets:list") { try self.listSources(r) } }
        router.put("/tilesets/v1/validateRecipe", options: json) { r in self.run(r, "tilesets:write") { try self.validateRecipe(r) } }
        router.put("/tilesets/v1/queue") { r in self.run(r, "tilesets:read") { JSONResponse.make(200, ["total": .int(Int64(try self.backend.queuedJobCount()))]) } }
        router.get("/tilesets/v1/{username}") { r in self.run(r, "tilesets:list") { try self.listTilesets(r) } }
        router.post("/tilesets/v1/{tileset}", options: json) { r in self.run(r, "tilesets:write") { try self.createTileset(r) } }
        router.patch("/tilesets/v1/{tileset}", options: json) { r in self.run(r, "tilesets:write") { try self.updateTileset(r) } }
        router.delete("/tilesets/v1/{tileset}") { r in self.run(r, "tilesets:write") { try self.deleteTileset(r) } }
        router.post("/tilesets/v1/{tileset}/publish", options: RouteOptions(maxBodyBytes: 1 << 16)) { r in self.run(r, "tilesets:write") { try self.publish(r) } }
        router.post("/tilesets/v1/{tileset}/publish-changesets", options: upload) { r in self.run(r, "tilesets:write") { try self.publishChangesets(r) } }
        router.get("/tilesets/v1/{tileset}/jobs") { r in self.run(r, "tilesets:list") { try self.jobs(r) } }
        router.get("/tilesets/v1/{tileset}/jobs/{job_id}") { r in self.run(r, "tilesets:read") { try self.job(r) } }
        router.get("/tilesets/v1/{tileset}/recipe") { r in self.run(r, "tilesets:list") { try self.recipe(r) } }
        router.patch("/tilesets/v1/{tileset}/recipe", options: json) { r in self.run(r, "tilesets:write") { try self.updateRecipe(r) } }
    }

    func run(_ request: Request, _ scope: String, _ body: () throws -> Response) -> Response {
        ServiceKit.handle(request, scope: scope, access: access, shape: MTSShapes.error, body)
    }

    // MARK: identifiers

    /// The `{username}` segment, which must be the account this server answers for.
    func username(_ request: Request) throws(HTTPError) -> String {
        let name = request.parameter("username")
        guard name == backend.owner else {
            throw HTTPError(404, "Not Found: account '\(name.prefix(64))' does not exist here; this tiledrop answers for the account '\(backend.owner)'")
        }
        return name
    }

    /// The `{id}` of a tileset source: a map name.
    func sourceName(_ request: Request) throws(HTTPError) -> String {
        _ = try username(request)
        let id = request.parameter("id")
        guard MTSShapes.isValidName(id) else {
            throw HTTPError(400, "Invalid source id '\(id.prefix(64))': use at most 32 letters, digits, '-' or '_'")
        }
        return id
    }

    /// The bare name of a `{username}.{name}` tileset id (a bare name means the owner's).
    func tilesetName(_ request: Request) throws(HTTPError) -> String {
        let full = request.parameter("tileset")
        var parts = full.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { parts.insert(backend.owner, at: 0) }
        guard parts.count == 2, MTSShapes.isValidName(parts[0]), MTSShapes.isValidName(parts[1]) else {
            throw HTTPError(400, "Invalid tileset id '\(full.prefix(80))': use username.name, each at most 32 letters, digits, '-' or '_'")
        }
        guard parts[0] == backend.owner else {
            throw HTTPError(404, "Tileset \(full) does not exist; this tiledrop answers for the account '\(backend.owner)'")
        }
        return parts[1]
    }

    // MARK: sources

    private func upload(_ request: Request, replace: Bool) throws -> Response {
        let map = try sourceName(request)
        let boundary = try MultipartFormFile.boundary(contentType: request.headers["Content-Type"])
        let staged = try backend.newStagingFile(map: map)
        let part: MultipartFormFile
        do {
            let fd = try ServiceKit.openStaged(staged)
            defer { close(fd) }
            part = try MultipartFormFile.extract(field: "file", from: request.body, boundary: boundary, into: fd)
            guard part.size > 0 else { throw HTTPError(400, "the uploaded file is empty; send line-delimited GeoJSON") }
            try ServiceKit.syncStaged(fd, staged)
        } catch {
            backend.discardStaged(staged)
            throw error
        }
        let record = try backend.ingestStaged(staged, map: map, filename: MTSRoutes.ingestName(part.filename, map: map),
                                              group: nil, replace: replace)
        guard record.state == .completed else {
            throw HTTPError(400, "the file could not be read as line-delimited GeoJSON: \(record.errors.joined(separator: "; ")) (ingest \(record.id))")
        }
        let summary = try backend.sources().first { $0.map == map } ?? SourceSummary(map: map, files: 0, size: 0)
        var o = JSONObject()
        o["file_size"] = .int(part.size)
        o["files"] = .int(Int64(summary.files))
        o["id"] = .string(MTSShapes.sourceID(owner: backend.owner, map: map))
        o["source_size"] = .int(summary.size)
        o["ingest_id"] = .string(record.id)
        if !record.warnings.isEmpty { o["warnings"] = .array(record.warnings.map(JSONValue.string)) }
        return JSONResponse.make(200, .object(o))
    }

    /// The name the ingest records: the part's file name when it has a format's extension
    /// (so a plain GeoJSON or KML upload is read as such), else `<id>.geojsonl`.
    static func ingestName(_ filename: String?, map: String) -> String {
        let known = [".geojsonl", ".geojsons", ".ndjson", ".jsonl", ".geojson", ".json", ".kml", ".kmz", ".gpx"]
        if let filename, let base = filename.split(separator: "/").last.map(String.init), !base.hasPrefix("."),
           base.utf8.count <= 200, !base.utf8.contains(0), known.contains(where: { base.lowercased().hasSuffix($0) }) {
            return base
        }
        return map + ".geojsonl"
    }

    private func source(_ request: Request) throws -> Response {
        let map = try sourceName(request)
        guard let s = try backend.sources().first(where: { $0.map == map }) else {
            throw HTTPError(404, "Tileset source \(MTSShapes.sourceID(owner: backend.owner, map: map)) does not exist")
        }
        return JSONResponse.make(200, MTSShapes.source(s, owner: backend.owner, detailed: true))
    }

    private func deleteSource(_ request: Request) throws -> Response {
        let map = try sourceName(request)
        guard try backend.deleteSource(map: map) else {
            throw HTTPError(404, "Tileset source \(MTSShapes.sourceID(owner: backend.owner, map: map)) does not exist")
        }
        return Response(status: 204)
    }

    private func listSources(_ request: Request) throws -> Response {
        _ = try username(request)
        let all = try backend.sources().sorted { $0.map < $1.map }
        let page = try MTSPage(request, keys: all.map(\.map))
        let items = all[page.range].map { MTSShapes.source($0, owner: backend.owner, detailed: false) }
        return JSONResponse.make(200, .array(Array(items)), headers: page.linkHeader(request))
    }

    // MARK: recipes

    private func validateRecipe(_ request: Request) throws -> Response {
        let recipe = try ServiceKit.jsonBody(request)
        var errors = Recipe.validate(recipe)
        if errors.isEmpty && !MTSRoutes.flag(request.query["accept_invalid_sources"]) {
            errors = backend.sourceProblems(recipe: recipe)
        }
        if errors.isEmpty { return JSONResponse.make(200, ["valid": true]) }
        return JSONResponse.make(200, ["valid": false, "errors": .array(errors.map(JSONValue.string))])
    }

    /// A query flag: present without a value, or `true`/`1`.
    static func flag(_ value: String?) -> Bool {
        guard let value else { return false }
        return value.isEmpty || value == "true" || value == "1"
    }

    private func recipe(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        guard let recipe = try backend.recipe(tileset: name) else {
            throw HTTPError(404, "Tileset \(backend.owner).\(name) does not exist")
        }
        return JSONResponse.make(200, ["recipe": recipe, "id": .string("\(backend.owner).\(name)")])
    }

    private func updateRecipe(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        guard try backend.recipe(tileset: name) != nil else { throw HTTPError(404, "Tileset \(backend.owner).\(name) does not exist") }
        let recipe = try ServiceKit.jsonBody(request)
        let errors = Recipe.validate(recipe)
        guard errors.isEmpty else {
            return JSONResponse.make(400, ["message": "Recipe is invalid.", "errors": .array(errors.map(JSONValue.string))])
        }
        try backend.replaceRecipe(tileset: name, recipe: recipe)
        return Response(status: 204)
    }
}
