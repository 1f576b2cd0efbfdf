import Foundation
import GeoModel
import Storage
import SystemSupport

/// Answers HTTP/1.1 status requests on the Unix socket (`tiledrop.sock`).
///
/// Routes (README "Status socket"): `GET /v1/status`, `GET /v1/ingests`, `GET /v1/ingests/{id}`,
/// `POST /v1/ingests/{id}/cancel`, `GET /v1/maps`, `GET /tilesets/v1/{tileset}/jobs`, and
/// `POST /tilesets/v1/{tileset}/publish` (`RepublishHandler`).
/// Reads use the server's own read-only connection, so queries never wait on the writer.
/// Mutating requests are accepted only from root or the daemon's own user (`SO_PEERCRED`).
/// Runs on its own serial queue; each connection carries one request.
final class StatusServer: @unchecked Sendable {
    private let config: DaemonConfig
    private let startedAt: Double
    private let clock = MonotonicClock()
    private let live: LiveStatusBox
    private let cancellations: LockedStringSet
    private let logger: Logger
    private var database: StateDatabase?
    private let recipes: RecipeBook
    private let jobProgress: JobProgressBox
    private let republish: RepublishHandler

    static let version = TiledropVersion.string

    init(config: DaemonConfig, live: LiveStatusBox, cancellations: LockedStringSet, logger: Logger,
         recipes: RecipeBook, jobProgress: JobProgressBox, republish: RepublishHandler) {
        self.config = config
        startedAt = MonotonicClock().now()
        self.live = live
        self.cancellations = cancellations
        self.logger = logger
        self.recipes = recipes
        self.jobProgress = jobProgress
        self.republish = republish
    }

    /// Reads one request from `client`, answers it, and closes the connection.
    func serve(_ client: UnixSocket) {
        defer { client.close() }
        var head: [UInt8] = []
        while !HTTPRequest.isComplete(head) {
            guard let chunk = try? client.receive(maxBytes: 4096), !chunk.isEmpty else { return }
            head += chunk
            if head.count > HTTPRequest.maxHeadBytes {
                try? client.sendAll(HTTPResponse.error(400, "request head larger than 16 KiB").bytes)
                return
            }
        }
        let response: HTTPResponse
        if let request = HTTPRequest(head: head) {
            response = respond(to: request, peerUID: (try? client.peerCredentials())?.uid)
        } else {
            response = .error(400, "malformed HTTP request; try: curl --unix-socket \(config.socketPath) http://localhost/v1/status")
        }
        try? client.sendAll(response.bytes)
    }

    func respond(to request: HTTPRequest, peerUID: uid_t?) -> HTTPResponse {
        let parts = request.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        do {
            let db = try openDatabase()
            switch (request.method, parts.count, parts) {
            case ("GET", 2, ["v1", "status"]):
                return HTTPResponse(status: 200, body: try status(db))
            case ("GET", 2, ["v1", "ingests"]):
                let state = request.query["state"].flatMap(IngestState.init(rawValue:))
                let limit = request.query["limit"].flatMap(Int.init) ?? 100
                return HTTPResponse(status: 200, body: .array(try db.ingests(state: state, map: request.query["map"], limit: limit).map(\.jsonValue)))
            case ("GET", 3, _) where parts[0] == "v1" && parts[1] == "ingests":
                guard let r = try db.ingest(id: parts[2]) else { return .error(404, "no ingest with id \(parts[2])") }
                return HTTPResponse(status: 200, body: r.jsonValue)
            case ("POST", 4, _) where parts[0] == "v1" && parts[1] == "ingests" && parts[3] == "cancel":
                return try cancel(id: parts[2], db: db, peerUID: peerUID)
            case ("GET", 2, ["v1", "maps"]):
                return HTTPResponse(status: 200, body: .array(try db.maps().map(mapJSON)))
            case ("POST", 4, _) where parts[0] == "tilesets" && parts[1] == "v1" && parts[3] == "publish":
                return republish.respond(tileset: parts[2])
            case ("GET", 4, _) where parts[0] == "tilesets" && parts[1] == "v1" && parts[3] == "jobs":
                let limit = request.query["limit"].flatMap(Int.init) ?? 100
                return HTTPResponse(status: 200, body: .array(try db.jobs(tileset: parts[2], limit: limit).map(\.jsonValue)))
            case (let m, _, _) where m != "GET" && m != "POST":
                return .error(405, "method \(m) is not supported")
            default:
                return .error(404, "no such endpoint \(request.method) \(request.path); see GET /v1/status")
            }
        } catch {
            database = nil
            return .error(500, "\(error)")
        }
    }

    private func cancel(id: String, db: StateDatabase, peerUID: uid_t?) throws(StorageError) -> HTTPResponse {
        guard let uid = peerUID, uid == 0 || uid == getuid() else {
            return .error(403, "only root or the daemon's user may cancel ingests")
        }
        guard let r = try db.ingest(id: id) else { return .error(404, "no ingest with id \(id)") }
        guard !r.state.isFinished else {
            return .error(409, "ingest \(id) is already \(r.state.rawValue); only upload or processing ingests can be canceled")
        }
        cancellations.insert(id)
        logger.info("ingest \(id): cancellation requested")
        return HTTPResponse(status: 200, body: r.jsonValue)
    }

    private func status(_ db: StateDatabase) throws(StorageError) -> JSONValue {
        let snapshot = live.get()
        let ingests = try db.ingestCounts()
        let jobs = try db.jobCounts()
        var o = JSONObject()
        o["version"] = .string(StatusServer.version)
        o["uptime"] = .int(Int64((clock.now() - startedAt).rounded()))
        o["pid"] = .int(Int64(getpid()))
        o["root"] = .string(config.root)
        o["maps"] = .array(snapshot.maps.map(JSONValue.string))
        o["settling"] = .int(Int64(snapshot.settling))
        o["queued_drops"] = .int(Int64(snapshot.queuedDrops))
        o["paused"] = .bool(snapshot.pausedReason != nil)
        o["paused_reason"] = snapshot.pausedReason.map(JSONValue.string) ?? .null
        o["ingests"] = .object(JSONObject(IngestState.allCases.map { .init(key: $0.rawValue, value: .int(Int64(ingests[$0] ?? 0))) }))
        o["jobs"] = .object(JSONObject(JobStage.allCases.map { .init(key: $0.rawValue, value: .int(Int64(jobs[$0] ?? 0))) }))
        o["warnings"] = .array(snapshot.warnings.map(JSONValue.string))
        o["recipes"] = recipes.statusJSON
        o["last_job"] = try db.lastFinishedJob().map(lastJobJSON) ?? .null
        var active = JSONObject()
        active["ingests"] = .array(try db.ingests(state: .processing, limit: 20).map { r in
            ["id": .string(r.id), "map": .string(r.map), "filename": .string(r.filename), "progress": .double((r.progress * 1000).rounded() / 1000)]
        })
        active["job"] = jobProgress.json
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
        return .object(o)
    }

    private func mapJSON(_ m: MapRecord) -> JSONValue {
        var o = JSONObject()
        o["id"] = .string(m.id)
        o["title"] = .string(m.title)
        o["short_name"] = .string(m.shortName)
        o["owner"] = .string(m.owner)
        o["visibility"] = .string(m.visibility)
        o["url"] = .string("file://" + absolute(config.tilesDir) + "/" + m.id + ".mbtiles")
        o["groups"] = .array(m.groups.map { ["title": .string($0)] })
        return .object(o)
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    private func openDatabase() throws(StorageError) -> StateDatabase {
        if let database { return database }
        let db = try StateDatabase(path: config.statePath, readOnly: true, root: config.root)
        database = db
        return db
    }
}
