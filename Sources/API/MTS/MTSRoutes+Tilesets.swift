#if canImport(Glibc)
import Glibc
#endif
import GeoModel
import HTTP
import Storage
import Tiling

/// Tilesets and publish jobs (seeds/001 "Create a tileset" … "List information about all jobs").
extension MTSRoutes {
    func listTilesets(_ request: Request) throws -> Response {
        let user = request.parameter("username")
        guard !user.contains(".") else {
            throw HTTPError(404, "Not Found: GET /tilesets/v1/{username} lists an account's tilesets; \(user.prefix(80)) is a tileset id")
        }
        _ = try username(request)
        var all = try backend.tilesets()
        switch request.query["type"] {
        case nil, "vector"?: break
        case "raster"?, "rasterarray"?: all = []
        case let other?: throw HTTPError(422, "type must be vector, raster or rasterarray, not '\(other.prefix(32))'")
        }
        switch request.query["visibility"] {
        case nil: break
        case "public"?: all = all.filter { !$0.record.isPrivate }
        case "private"?: all = all.filter { $0.record.isPrivate }
        case let other?: throw HTTPError(422, "visibility must be public or private, not '\(other.prefix(32))'")
        }
        switch request.query["sortby"] {
        case nil: all.sort { $0.record.id < $1.record.id }
        case "created"?: all.sort { ($0.record.created, $0.record.id) > ($1.record.created, $1.record.id) }
        case "modified"?: all.sort { ($0.record.modified, $0.record.id) > ($1.record.modified, $1.record.id) }
        case let other?: throw HTTPError(422, "sortby must be created or modified, not '\(other.prefix(32))'")
        }
        let page = try MTSPage(request, keys: all.map(\.record.id))
        let items = all[page.range].map { MTSShapes.tileset($0, owner: backend.owner) }
        return JSONResponse.make(200, .array(Array(items)), headers: page.linkHeader(request))
    }

    func createTileset(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        let body = try ServiceKit.jsonBody(request)
        guard let recipe = body["recipe"] else { throw HTTPError(400, "the body needs a recipe (MTS recipe v1) and a name") }
        let errors = Recipe.validate(recipe)
        guard errors.isEmpty else {
            return JSONResponse.make(400, ["message": "Recipe is invalid.", "errors": .array(errors.map(JSONValue.string))])
        }
        let now = MTSRoutes.nowMilliseconds()
        // MTS: `private` defaults to true for tilesets created through the API.
        var record = TilesetRecord(id: name, name: name, isPrivate: true, created: now, modified: now)
        try MTSShapes.information(body, into: &record, requireName: true)
        try backend.createTileset(record, recipe: recipe)
        tilesetChanges.changed()
        let id = "\(backend.owner).\(name)"
        return JSONResponse.make(200, ["message": .string("Successfully created empty tileset \(id). Publish your tileset to begin processing your data into vector tiles.")])
    }

    func updateTileset(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        guard var record = try backend.tilesets().first(where: { $0.record.id == name })?.record else {
            throw HTTPError(404, "Tileset \(backend.owner).\(name) does not exist")
        }
        try MTSShapes.information(try ServiceKit.jsonBody(request), into: &record, requireName: false)
        record.modified = MTSRoutes.nowMilliseconds()
        try backend.updateTileset(record)
        tilesetChanges.changed()
        return Response(status: 204)
    }

    func deleteTileset(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        guard try backend.deleteTileset(name) else { throw HTTPError(404, "Tileset \(backend.owner).\(name) does not exist") }
        tilesetChanges.changed()
        return JSONResponse.make(200, ["message": .string("Tileset \(backend.owner).\(name) deleted")])
    }

    func publish(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        let jobID = try backend.publish(tileset: name)
        return JSONResponse.make(200, ["message": .string("Processing \(backend.owner).\(name)"), "jobId": .string(jobID)])
    }

    func jobs(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        var stage: JobStage?
        if let s = request.query["stage"] {
            guard let parsed = JobStage(rawValue: s) else {
                throw HTTPError(422, "stage must be one of processing, queued, success or failed, not '\(s.prefix(32))'")
            }
            stage = parsed
        }
        let all = try backend.jobs(tileset: name, stage: stage, limit: 10_000)
        let page = try MTSPage(request, keys: all.map(\.id))
        let pending = all[page.range].contains(where: { $0.recipe == nil }) ? try backend.recipe(tileset: name) : nil
        let items = all[page.range].map { MTSShapes.job($0, owner: backend.owner, pendingRecipe: pending) }
        return JSONResponse.make(200, .array(Array(items)), headers: page.linkHeader(request))
    }

    func job(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        let id = request.parameter("job_id")
        guard id.utf8.count <= 64, let job = try backend.job(id: id), job.tileset == name else {
            throw HTTPError(404, "Job \(id.prefix(64)) of tileset \(backend.owner).\(name) does not exist")
        }
        let pending = job.recipe == nil ? try backend.recipe(tileset: name) : nil
        return JSONResponse.make(200, MTSShapes.job(job, owner: backend.owner, pendingRecipe: pending))
    }

    static func nowMilliseconds() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) * 1000 + Int64(t.tv_nsec) / 1_000_000
    }
}

/// MTS pagination (seeds/001 "pagination"): `limit` 1–500 (default 100), `start` the key after
/// which the page begins, and a `Link: <…?start=KEY&limit=N>; rel="next"` header while more remain.
struct MTSPage {
    var range: Range<Int>
    var limit: Int
    var nextKey: String?

    init(_ request: Request, keys: [String]) throws(HTTPError) {
        limit = 100
        if let text = request.query["limit"] {
            guard let n = Int(text), (1...500).contains(n) else {
                throw HTTPError(422, "The requested url's querystring \"limit\" property contains in invalid value.")
            }
            limit = n
        }
        var first = 0
        if let start = request.query["start"] {
            guard let at = keys.firstIndex(of: start) else { throw HTTPError(422, "Invalid start key") }
            first = at + 1
        }
        let end = min(keys.count, first + limit)
        range = first..<end
        nextKey = end < keys.count && end > first ? keys[end - 1] : nil
    }

    /// The `Link` header for the next page, keeping the request's other query parameters.
    func linkHeader(_ request: Request) -> [(String, String)] {
        guard let nextKey else { return [] }
        var query = request.query.items.filter { $0.name != "start" && $0.name != "limit" && $0.name != "access_token" }
        query.append((name: "start", value: nextKey))
        query.append((name: "limit", value: String(limit)))
        let text = query.map { "\(MTSPage.escape($0.name))=\(MTSPage.escape($0.value))" }.joined(separator: "&")
        return [("Link", "<\(ServiceKit.baseURL(request))\(request.path)?\(text)>; rel=\"next\"")]
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func escape(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            let c = Character(Unicode.Scalar(b))
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "-._~".contains(c) {
                out.append(c)
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0x0F)])
            }
        }
        return out
    }
}
