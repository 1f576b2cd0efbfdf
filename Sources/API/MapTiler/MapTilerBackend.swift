import Storage

/// The daemon operations behind MapTiler's tileset ingest (seeds/000): an ingest record is
/// created before its file arrives (`state = upload`), the file is uploaded in chunks into a
/// hidden part file in the drop area, and `process` hands it to the ingest worker.
public protocol MapTilerBackend: UploadBackend {
    /// Creates an ingest of `filename` (`size` bytes) into `map` (nil: a new tileset named after the file).
    func createIngest(filename: String, size: Int64, map: String?) throws -> IngestRecord
    func ingest(id: String) throws -> IngestRecord?
    /// Bytes of the upload stored so far.
    func uploadedBytes(ingest: IngestRecord) throws -> Int64
    /// Stores `length` bytes at `start`: opens the part file, cuts it at `start` (a chunk sent
    /// again overlaps what is stored), lets `write` fill the descriptor, syncs it; returns the
    /// bytes stored in total. Throws `.rangeMismatch` when `start` is beyond what is stored.
    func appendChunk(ingest: IngestRecord, start: Int64, length: Int64, write: (Int32) throws -> Void) throws -> Int64
    /// The secret the upload URL carries (uploads come without the account's token).
    func uploadKey(ingest: IngestRecord) -> String?
    /// Starts processing a completely uploaded ingest.
    func processIngest(id: String) throws -> IngestRecord
    /// Cancels an unfinished ingest.
    func cancelIngest(id: String) throws -> IngestRecord
    /// The map (or tileset) a MapTiler `document_id` names: its UUID, or its name.
    func documentName(_ documentID: String) throws -> String?
    /// The UUID MapTiler clients see as `document_id` for `map`.
    func documentID(map: String) throws -> String
}
