import GeoModel

/// `POST /tilesets/v1/{tileset}/publish` (MTS "Publish a tileset"): queues a publish job for
/// the tileset now (`tiledrop republish TILESET`). Kept apart from the status routes so the
/// HTTP server can take the handler over unchanged.
struct RepublishHandler: Sendable {
    /// What asking the publish queue for a job gave.
    enum Outcome: Sendable {
        case queued(jobID: String)
        /// No recipe names the tileset and it is no map published with the default recipe.
        case unknownTileset
        /// The job could not be recorded (the log has the reason).
        case failed
    }

    let republish: @Sendable (String) -> Outcome

    func respond(tileset: String) -> HTTPResponse {
        switch republish(tileset) {
        case .queued(let id):
            // MTS answers a publish request with a message and the job id.
            return HTTPResponse(status: 200, body: ["message": .string("Processing \(tileset)"), "jobId": .string(id)])
        case .unknownTileset:
            return .error(404, "no tileset \(tileset): there is no recipes/\(tileset).json and no map \(tileset) without a recipe; see GET /v1/maps and GET /v1/status (recipes)")
        case .failed:
            return .error(500, "the publish job for \(tileset) could not be queued; the daemon's log says why")
        }
    }
}
