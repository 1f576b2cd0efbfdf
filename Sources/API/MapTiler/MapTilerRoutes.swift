import GeoModel
import HTTP
import Storage

/// MapTiler's tileset ingest (seeds/000) under both `/v1/tiles/…` (the document) and
/// `/v1/datasets/…` (what today's `maptiler-cloud-cli` calls), plus the resumable upload URL.
///
/// Create answers a `TilesetIngest` with `upload_url` and the `upload` object
/// `{"type": "google_drive_resumable", "url": …}`; the client `PUT`s chunks with
/// `Content-Range: bytes a-b/total` and gets `308` + `Range: bytes=0-b` until the last, then
/// `200`; `bytes */total` asks how much arrived (resume after a dropped connection). `process`
/// hands the file to the ingest worker. Errors are `{"errors": [{"message": …}]}`, which the
/// client reads for every 4xx.
public struct MapTilerRoutes: Sendable {
    let backend: any MapTilerBackend
    let access: AccessCheck

    public init(backend: any MapTilerBackend, access: @escaping AccessCheck) {
        self.backend = backend
        self.access = access
    }

    static let uploadType = "google_drive_resumable"

    public func register(on router: inout Router) {
        let json = RouteOptions(maxBodyBytes: 1 << 16)
        for kind in ["tiles", "datasets"] {
            router.post("/v1/\(kind)/ingest", options: json) { r in self.run(r, "tilesets:write") { try self.create(r, into: nil) } }
            router.post("/v1/\(kind)/{document_id}/ingest", options: json) { r in
                self.run(r, "tilesets:write") { try self.create(r, into: r.parameter("document_id")) }
            }
            router.get("/v1/\(kind)/ingest/{ingest_id}") { r in self.run(r, "tilesets:read") { try self.show(r) } }
            router.post("/v1/\(kind)/ingest/{ingest_id}/cancel", options: json) { r in
                self.run(r, "tilesets:write") { try self.answer(try self.backend.cancelIngest(id: self.ingestID(r)), r) }
            }
            router.post("/v1/\(kind)/ingest/{ingest_id}/process", options: json) { r in self.run(r, "tilesets:write") { try self.process(r) } }
            router.setErrorShape(prefix: "/v1/\(kind)/", MapTilerRoutes.error)
        }
        // The upload URL is its own credential (the client sends no token with the chunks).
        router.put("/v1/uploads/{ingest_id}", options: RouteOptions(maxBodyBytes: backend.maxUploadBytes, long: true)) { r in
            self.run(r, nil) { try self.upload(r) }
        }
        router.setErrorShape(prefix: "/v1/uploads/", MapTilerRoutes.error)
    }

    /// `{"errors": [{"message": …}]}`.
    static func error(_ status: Int, _ message: String) -> Response {
        JSONResponse.make(status, ["errors": [["message": .string(message)]]])
    }

    func run(_ request: Request, _ scope: String?, _ body: () throws -> Response) -> Response {
        ServiceKit.handle(request, scope: scope, access: access, shape: MapTilerRoutes.error, body)
    }

    func ingestID(_ request: Request) throws(HTTPError) -> String {
        let id = request.parameter("ingest_id")
        guard id.utf8.count == 36, id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) || $0 == 0x2D }) else {
            throw HTTPError(404, "no ingest with id '\(id.prefix(64))'; ingest ids are UUIDs")
        }
        return id.lowercased()
    }

    // MARK: endpoints

    private func create(_ request: Request, into documentID: String?) throws -> Response {
        let body = try ServiceKit.jsonBody(request)
        guard case .string(let filename)? = body["filename"] else {
            throw HTTPError(400, "the body needs filename (the container's file name) and size (its bytes)")
        }
        guard let size = body["size"]?.intValue else { throw HTTPError(400, "size must be the container's size in bytes") }
        if case .array(let types)? = body["supported_upload_types"], !types.contains(.string(MapTilerRoutes.uploadType)) {
            throw HTTPError(400, "this server offers the upload type \(MapTilerRoutes.uploadType) only; the client supports \(JSONWriter.string(.array(types)))")
        }
        var map: String?
        if let documentID {
            guard documentID.utf8.count <= 64, let name = try backend.documentName(documentID) else {
                throw HTTPError(404, "no tileset with document_id \(documentID.prefix(64))")
            }
            map = name
        }
        let record = try backend.createIngest(filename: filename, size: Int64(size), map: map)
        return try answer(record, request)
    }

    private func show(_ request: Request) throws -> Response {
        let id = try ingestID(request)
        guard let record = try backend.ingest(id: id) else { throw HTTPError(404, "no ingest with id \(id)") }
        return try answer(record, request)
    }

    private func process(_ request: Request) throws -> Response {
        let id = try ingestID(request)
        if request.body.size > 0, case .object(let o) = try ServiceKit.jsonBody(request),
           case .string(let type)? = o["upload_result"]?["type"], type != MapTilerRoutes.uploadType {
            throw HTTPError(400, "upload_result of type \(type) is not offered here; upload with \(MapTilerRoutes.uploadType)")
        }
        return try answer(try backend.processIngest(id: id), request)
    }

    /// `PUT /v1/uploads/{ingest_id}?key=…`: one chunk of a resumable upload.
    private func upload(_ request: Request) throws -> Response {
        let id = try ingestID(request)
        guard let record = try backend.ingest(id: id), let key = backend.uploadKey(ingest: record),
              MapTilerRoutes.sameSecret(key, request.query["key"] ?? "") else {
            throw HTTPError(404, "no upload at this URL; create an ingest first (POST /v1/tiles/ingest)")
        }
        guard record.state == .upload else {
            if record.state == .canceled || record.state == .failed { throw HTTPError(410, "ingest \(id) is \(record.state.rawValue)") }
            return JSONResponse.make(200, try json(record, request))
        }
        let range = try ContentRange(request.headers["Content-Range"], bodySize: request.body.size)
        guard range.total == nil || range.total == record.size else {
            throw HTTPError(400, "Content-Range total \(range.total!) is not the size \(record.size) given when the ingest was created")
        }
        var stored: Int64
        if let start = range.start {
            do {
                stored = try backend.appendChunk(ingest: record, start: start, length: request.body.size) { fd in
                    try request.body.copy(toDescriptor: fd)
                }
            } catch ServiceError.rangeMismatch(let received) {
                stored = received
            }
        } else {
            stored = try backend.uploadedBytes(ingest: record)
        }
        if stored == record.size { return JSONResponse.make(200, try json(record, request)) }
        var response = Response(status: 308)
        if stored > 0 { response.headers.add("Range", "bytes=0-\(stored - 1)") }
        return response
    }

    // MARK: the TilesetIngest object

    func answer(_ record: IngestRecord, _ request: Request) throws -> Response {
        JSONResponse.make(200, try json(record, request))
    }

    /// The `TilesetIngest` fields (seeds/000), with the upload object while bytes are expected.
    func json(_ record: IngestRecord, _ request: Request) throws -> JSONValue {
        var o = JSONObject()
        o["id"] = .string(record.id)
        o["document_id"] = .string(try backend.documentID(map: record.map))
        o["state"] = .string(record.state.rawValue)
        o["filename"] = .string(record.filename)
        o["size"] = .int(record.size)
        o["errors"] = .array(record.errors.map { ["message": .string($0)] })
        o["progress"] = .double(record.state == .completed ? 100 : record.progress * 100)
        if record.state == .upload, let key = backend.uploadKey(ingest: record) {
            let url = ServiceKit.baseURL(request) + "/v1/uploads/" + record.id + "?key=" + key
            o["upload_url"] = .string(url)
            o["upload"] = ["type": .string(MapTilerRoutes.uploadType), "url": .string(url)]
        } else {
            o["upload_url"] = .null
        }
        o["warnings"] = .array(record.warnings.map { ["message": .string($0)] })
        return .object(o)
    }

    /// Constant-time comparison of two secrets.
    static func sameSecret(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

/// `Content-Range: bytes a-b/total` (a chunk) or `bytes */total` (how much arrived?), RFC 9110 §14.4.
struct ContentRange: Equatable {
    var start: Int64?
    var total: Int64?

    init(_ header: String?, bodySize: Int64) throws(HTTPError) {
        guard let header else {
            // No header: the body is the whole file from its first byte.
            start = 0
            total = nil
            return
        }
        let usage = "Content-Range must be 'bytes FIRST-LAST/TOTAL' or 'bytes */TOTAL', not '\(header.prefix(80))'"
        guard header.hasPrefix("bytes ") else { throw HTTPError(400, usage) }
        let spec = header.dropFirst(6).split(separator: "/", maxSplits: 1).map(String.init)
        guard spec.count == 2, let total = Int64(spec[1]), total > 0 else { throw HTTPError(400, usage) }
        self.total = total
        if spec[0] == "*" {
            guard bodySize == 0 else { throw HTTPError(400, "a 'bytes */TOTAL' status query carries no body") }
            start = nil
            return
        }
        let bounds = spec[0].split(separator: "-", maxSplits: 1).compactMap { Int64($0) }
        guard bounds.count == 2, bounds[0] >= 0, bounds[1] >= bounds[0], bounds[1] < total else { throw HTTPError(400, usage) }
        guard bounds[1] - bounds[0] + 1 == bodySize else {
            throw HTTPError(400, "Content-Range announces \(bounds[1] - bounds[0] + 1) bytes but the body holds \(bodySize)")
        }
        start = bounds[0]
    }
}
