import GeoModel
import HTTP

/// What a changeset did (`POST /tilesets/v1/{tileset}/publish-changesets`).
public struct ChangesetOutcome: Sendable, Equatable {
    public var jobID: String
    public var upserts: Int
    public var deletes: Int
    /// Features of the map that an upsert replaced or a delete removed.
    public var replaced: Int
    /// True when every id was new: the changeset was appended and publishes incrementally.
    public var appended: Bool

    public init(jobID: String, upserts: Int, deletes: Int, replaced: Int, appended: Bool) {
        self.jobID = jobID
        self.upserts = upserts
        self.deletes = deletes
        self.replaced = replaced
        self.appended = appended
    }
}

extension MTSRoutes {
    /// `POST /tilesets/v1/{tileset}/publish-changesets`: a multipart `file` of line-delimited
    /// GeoJSON, each line a feature with an `id` (added or replaced) or `{"id": …, "delete": true}`.
    /// Answers like `publish`, plus what the changeset did.
    func publishChangesets(_ request: Request) throws -> Response {
        let name = try tilesetName(request)
        let boundary = try MultipartFormFile.boundary(contentType: request.headers["Content-Type"])
        let outcome = try backend.publishChangeset(tileset: name) { fd, staged in
            let part = try MultipartFormFile.extract(field: "file", from: request.body, boundary: boundary, into: fd)
            guard part.size > 0 else { throw HTTPError(400, "the changeset is empty; send one GeoJSON feature or {\"id\": …, \"delete\": true} per line") }
            try ServiceKit.syncStaged(fd, staged)
        }
        return JSONResponse.make(200, [
            "message": .string("Processing \(backend.owner).\(name)"), "jobId": .string(outcome.jobID),
            "upserts": .int(Int64(outcome.upserts)), "deletes": .int(Int64(outcome.deletes)),
            "replaced": .int(Int64(outcome.replaced)), "incremental": .bool(outcome.appended),
        ])
    }
}
