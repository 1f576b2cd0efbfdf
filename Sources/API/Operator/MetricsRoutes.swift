import GeoModel
import HTTP
import Storage

/// `GET /health` (503 until start-up recovery is done, then 200) and `GET /metrics`
/// (Prometheus text exposition format 0.0.4): ingests and jobs by state, bytes ingested,
/// publish seconds, tiles served, request latency histogram, open connections.
struct MetricsRoutes: Sendable {
    let backend: any Backend
    let stats: ServerStats
    let counters: APICounters

    func register(on router: inout Router) {
        router.get("/health") { _ in
            self.backend.isReady
                ? JSONResponse.make(200, ["status": "ok"])
                : JSONResponse.make(503, ["status": "starting", "message": "recovering unfinished ingests and jobs; try again in a moment"])
        }
        router.get("/metrics") { _ in
            do {
                let text = try self.backend.read { db throws(StorageError) in try self.exposition(db) }
                return Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", bytes: Array(text.utf8))
            } catch {
                return .message(500, "cannot read state.db: \(error)")
            }
        }
    }

    private func exposition(_ db: StateDatabase) throws(StorageError) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        let ingests = try db.ingestCounts()
        family("tiledrop_ingests", "gauge", "Ingests recorded in state.db, by state.")
        for s in IngestState.allCases { out += "tiledrop_ingests{state=\"\(s.rawValue)\"} \(ingests[s] ?? 0)\n" }
        let jobs = try db.jobCounts()
        family("tiledrop_jobs", "gauge", "Publish jobs recorded in state.db, by stage.")
        for s in JobStage.allCases { out += "tiledrop_jobs{stage=\"\(s.rawValue)\"} \(jobs[s] ?? 0)\n" }
        family("tiledrop_ingested_bytes_total", "counter", "Bytes of the files of completed ingests.")
        out += "tiledrop_ingested_bytes_total \(try db.db.scalarInt("SELECT COALESCE(SUM(size), 0) FROM ingests WHERE state = 'completed'") ?? 0)\n"
        family("tiledrop_publish_seconds", "summary", "Seconds from queueing to publishing, of successful publish jobs.")
        let sum = try db.db.scalarInt("SELECT COALESCE(SUM(published - created), 0) FROM jobs WHERE stage = 'success' AND published IS NOT NULL") ?? 0
        out += "tiledrop_publish_seconds_sum \(Double(sum) / 1000)\ntiledrop_publish_seconds_count \(jobs[.success] ?? 0)\n"
        family("tiledrop_tiles_served_total", "counter", "Tile requests answered, by outcome.")
        let tiles = counters.tilesServed
        for outcome in ["ok", "empty", "not_modified", "missing"] { out += "tiledrop_tiles_served_total{outcome=\"\(outcome)\"} \(tiles[outcome] ?? 0)\n" }
        let s = stats.snapshot()
        family("tiledrop_http_open_connections", "gauge", "Open HTTP connections (Unix socket and TCP).")
        out += "tiledrop_http_open_connections \(s.openConnections)\n"
        family("tiledrop_http_connections_refused_total", "counter", "Connections answered 503 at the connection cap.")
        out += "tiledrop_http_connections_refused_total \(s.refusedConnections)\n"
        family("tiledrop_http_responses_total", "counter", "HTTP responses, by status class.")
        for c in 1...5 { out += "tiledrop_http_responses_total{code=\"\(c)xx\"} \(s.responsesByClass[c] ?? 0)\n" }
        family("tiledrop_http_request_duration_seconds", "histogram", "Seconds from a complete request head to its response.")
        for (i, bound) in ServerStats.latencyBuckets.enumerated() {
            out += "tiledrop_http_request_duration_seconds_bucket{le=\"\(bound)\"} \(s.latencyCounts[i])\n"
        }
        out += "tiledrop_http_request_duration_seconds_bucket{le=\"+Inf\"} \(s.latencyCounts.last ?? 0)\n"
        out += "tiledrop_http_request_duration_seconds_sum \(s.latencySum)\n"
        out += "tiledrop_http_request_duration_seconds_count \(s.requests)\n"
        return out
    }
}
