import GeoModel
import HTTP
import Storage

/// The operator's endpoints, formerly the status socket (README "Status socket"):
/// `GET /v1/status`, `GET /v1/ingests`, `GET /v1/ingests/{id}`, `POST /v1/ingests/{id}/cancel`,
/// `GET /v1/maps`. Publish jobs (`POST /tilesets/v1/{tileset}/publish`, `GET …/jobs`) are MTS's
/// (`API/MTS/`), with the same access rules.
/// Errors are `{"message": …}`.
struct OperatorRoutes: Sendable {
    let backend: any Backend

    func register(on router: inout Router) {
        router.get("/v1/status") { request in
            if let refused = self.refused(request, scope: "tilesets:read") { return refused }
            return self.answer { db throws(StorageError) in try self.status(db) }
        }
        router.get("/v1/ingests") { request in
            if let refused = self.refused(request, scope: "tilesets:read") { return refused }
            return self.answer { db throws(StorageError) in
                let state = request.query["state"].flatMap(IngestState.init(rawValue:))
                let limit = request.query["limit"].flatMap(Int.init) ?? 100
                return .array(try db.ingests(state: state, map: request.query["map"], limit: max(1, min(limit, 10_000))).map(\.jsonValue))
            }
        }
        router.get("/v1/ingests/{id}") { request in
            if let refused = self.refused(request, scope: "tilesets:read") { return refused }
            let id = request.parameter("id")
            return self.respond { db throws(StorageError) in
                guard let r = try db.ingest(id: id) else { return .message(404, "no ingest with id \(id)") }
                return JSONResponse.make(200, r.jsonValue)
            }
        }
        router.post("/v1/ingests/{id}/cancel", options: RouteOptions(maxBodyBytes: 0)) { request in
            if let refused = self.refused(request, scope: "tilesets:write", adminOnly: true) { return refused }
            return self.respond { db throws(StorageError) in try self.cancel(id: request.parameter("id"), db: db) }
        }
        router.get("/v1/maps") { request in
            if let refused = self.refused(request, scope: "tilesets:read") { return refused }
            return self.answer { db throws(StorageError) in .array(try db.maps().map(self.mapJSON)) }
        }
    }

    /// Reads are open on the Unix socket (mode 0660 decides who may connect); over TCP they need
    /// a token with `scope`. Changes need the local admin (root or the daemon's user on the
    /// socket) or a token with `scope`; `adminOnly` refuses other socket users too.
    private func refused(_ request: Request, scope: String, adminOnly: Bool = false) -> Response? {
        if request.peer.isUnixSocket && !adminOnly { return nil }
        switch backend.authenticator.require(scope, of: request) {
        case .success: return nil
        case .failure(let f):
            if request.peer.isUnixSocket && f.status == 401 {
                return .message(403, "only root or the daemon's user may do this over the Unix socket (or send a token with the scope \(scope))")
            }
            return .message(f.status, f.message)
        }
    }

    /// 200 with the JSON `body` builds, or 500 naming the database error.
    private func answer(_ body: (StateDatabase) throws(StorageError) -> JSONValue) -> Response {
        respond { db throws(StorageError) in JSONResponse.make(200, try body(db)) }
    }

    private func respond(_ body: (StateDatabase) throws(StorageError) -> Response) -> Response {
        do {
            return try backend.read(body)
        } catch {
            return .message(500, "cannot read state.db: \(error)")
        }
    }

    private func cancel(id: String, db: StateDatabase) throws(StorageError) -> Response {
        guard let r = try db.ingest(id: id) else { return .message(404, "no ingest with id \(id)") }
        guard !r.state.isFinished else {
            return .message(409, "ingest \(id) is already \(r.state.rawValue); only upload or processing ingests can be canceled")
        }
        backend.requestCancel(ingest: id)
        backend.logInfo("ingest \(id): cancellation requested")
        return JSONResponse.make(200, r.jsonValue)
    }

    private func status(_ db: StateDatabase) throws(StorageError) -> JSONValue {
        let live = backend.liveState()
        let ingests = try db.ingestCounts()
        let jobs = try db.jobCounts()
        var o = JSONObject()
        o["version"] = .string(live.version)
        o["uptime"] = .int(Int64(live.uptimeSeconds.rounded()))
        o["pid"] = .int(Int64(live.pid))
        o["root"] = .string(live.root)
        o["maps"] = .array(live.maps.map(JSONValue.string))
        o["settling"] = .int(Int64(live.settling))
        o["queued_drops"] = .int(Int64(live.queuedDrops))
        o["paused"] = .bool(live.pausedReason != nil)
        o["paused_reason"] = live.pausedReason.map(JSONValue.string) ?? .null
        o["ingests"] = .object(JSONObject(IngestState.allCases.map { .init(key: $0.rawValue, value: .int(Int64(ingests[$0] ?? 0))) }))
        o["jobs"] = .object(JSONObject(JobStage.allCases.map { .init(key: $0.rawValue, value: .int(Int64(jobs[$0] ?? 0))) }))
        o["warnings"] = .array(live.warnings.map(JSONValue.string))
        o["recipes"] = live.recipes
        o["last_job"] = try db.lastFinishedJob().map(lastJobJSON) ?? .null
        var active = JSONObject()
        active["ingests"] = .array(try db.ingests(state: .processing, limit: 20).map { r in
            ["id": .string(r.id), "map": .string(r.map), "filename": .string(r.filename), "progress": .double((r.progress * 1000).rounded() / 1000)]
        })
        active["job"] = live.activeJob
        active["queued_jobs"] = .array(try db.unfinishedJobs().filter { $0.stage == .queued }.map { .string($0.tileset) })
        o["active"] = .object(active)
        return .object(o)
    }

    /// The last finished publish job, with its warnings (features dropped for `layer_size`, …).
    private func lastJobJSON(_ job: PublishJobRecord) -> JSONValue {
        var o = JSONObject()
        o["tileset"] = .string(job.tileset)
        o["id"] = .string(job.id)
        o["stage"] = .string(job.stage.rawValue)
        o["published"] = job.published.map { .string(HTTPDate.format(milliseconds: $0)) } ?? .null
        o["errors"] = .array(job.errors.map(JSONValue.string))
        o["warnings"] = .array(job.warnings.map(JSONValue.string))
        if let memory = job.memory, let v = try? JSONParser.parse(memory) { o["memory"] = v }
        return .object(o)
    }

    private func mapJSON(_ m: MapRecord) -> JSONValue {
        var o = JSONObject()
        o["id"] = .string(m.id)
        o["title"] = .string(m.title)
        o["short_name"] = .string(m.shortName)
        o["owner"] = .string(m.owner)
        o["visibility"] = .string(m.visibility)
        o["url"] = .string("file://" + backend.tilesetPath(m.id))
        o["groups"] = .array(m.groups.map { ["title": .string($0)] })
        return .object(o)
    }
}
