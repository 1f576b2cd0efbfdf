import GeoModel
import Storage

/// What every upload door (MTS sources, MapHub append, MapTiler ingest) needs from the daemon:
/// a place in the drop area to write an upload to, and the same ingest a dropped file gets.
///
/// An upload is written under a hidden temporary name inside `drop/<map>/` (the watcher never
/// reads hidden names), then handed to the ingest worker, which claims it by `rename()` into
/// the map's work folder exactly like a drop: same records, same crash guarantees.
public protocol UploadBackend: AnyObject, Sendable {
    /// The account name the services answer for (MTS `username`, MapHub `owner`).
    var owner: String { get }
    /// `max_file_size`: the largest upload accepted.
    var maxUploadBytes: Int64 { get }

    /// Creates an empty hidden file in `drop/<map>/` (O_EXCL, no symlinks) and returns its path.
    func newStagingFile(map: String) throws -> String
    /// Removes a staged file that will not be ingested (a rejected or broken upload).
    func discardStaged(_ path: String)
    /// Ingests the staged file into `map` and waits for the outcome: the finished ingest record.
    func ingestStaged(_ path: String, map: String, filename: String, group: String?, replace: Bool) throws -> IngestRecord
    /// The recorded maps (MapHub's map objects), with their groups and UUIDs.
    func maps() throws -> [MapRecord]
}

/// Expected failures a backend reports; each service turns them into its own error shape.
public enum ServiceError: Error, Sendable, Equatable {
    /// 404: the named thing does not exist.
    case notFound(String)
    /// 400/409: it exists already, or is in a state that forbids the request.
    case conflict(String)
    /// 400/422: the request is malformed or breaks a rule.
    case invalid(String)
    /// 413: larger than a configured limit.
    case tooLarge(String)
    /// A resumable upload chunk did not start where the stored bytes end.
    case rangeMismatch(received: Int64)
    /// 507: the daemon cannot take data now (disk space below `min_free_space`).
    case unavailable(String)

    public var message: String {
        switch self {
        case .notFound(let m), .conflict(let m), .invalid(let m), .tooLarge(let m), .unavailable(let m): m
        case .rangeMismatch(let received): "the chunk must start at byte \(received), where the stored upload ends"
        }
    }
}
