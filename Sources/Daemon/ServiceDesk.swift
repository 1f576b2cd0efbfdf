import API
import Foundation
import GeoModel
import Storage
import SystemSupport

/// The daemon side of the service APIs (MTS, MapTiler ingest, MapHub append): implements the
/// `API` module's backend protocols over the same stages the drop folders use.
///
/// Uploads are written into the drop area under hidden names (`UploadNames`) and handed to the
/// ingest worker's serial queue, which claims them by `rename()` like any drop. Tileset
/// information lives in `state.db` (`tilesets`), recipes in `recipes/`, tiles in `tiles/`.
final class ServiceDesk: @unchecked Sendable {
    /// The settings in force, as the ingest worker sees them (a SIGHUP reload changes them).
    var config: DaemonConfig { processor.config }
    let paths: DaemonPaths
    let store: StateStore
    let fileSystem: FileSystem
    let logger: Logger
    let processor: IngestProcessor
    let publisher: PublishScheduler
    let ingestQueue: DispatchQueue
    let cancellations: LockedStringSet
    let retiredSources: LockedStringSet

    init(config: DaemonConfig, store: StateStore, fileSystem: FileSystem, logger: Logger, processor: IngestProcessor,
         publisher: PublishScheduler, ingestQueue: DispatchQueue, cancellations: LockedStringSet, retiredSources: LockedStringSet) {
        paths = DaemonPaths(config: config)
        self.store = store
        self.fileSystem = fileSystem
        self.logger = logger
        self.processor = processor
        self.publisher = publisher
        self.ingestQueue = ingestQueue
        self.cancellations = cancellations
        self.retiredSources = retiredSources
    }

    /// Runs `body` on the state database, turning storage failures into thrown errors.
    func database<T>(_ body: (StateDatabase) throws(StorageError) -> T) throws -> T {
        try store.with(body)
    }

    /// Throws `.invalid` unless `map` is a valid map / source / tileset name.
    func checkName(_ map: String, what: String) throws {
        guard DropNames.isValidMapName(map) else {
            throw ServiceError.invalid("\(what) '\(map)' is not valid: use at most 32 letters, digits, '-' or '_'")
        }
    }

    /// Creates a new empty file at `path` without following symlinks and without replacing anything.
    func createEmptyFile(_ path: String) throws {
        close(try fileSystem.createFile(path, mode: 0o600))
    }
}

extension ServiceDesk: UploadBackend {
    var owner: String { processor.owner }
    var maxUploadBytes: Int64 { config.maxFileBytes }

    func newStagingFile(map: String) throws -> String {
        try checkName(map, what: "map")
        let folder = config.dropDir + "/" + map
        let isNew = try fileSystem.status(folder) == nil
        try fileSystem.createDirectories(folder)
        let path = folder + "/" + UploadNames.staged(id: UUID().uuidString.lowercased(), newFolder: isNew)
        try createEmptyFile(path)
        return path
    }

    /// Removes the staged file, and the map folder when this upload created it (a refused
    /// upload must not leave a new, empty map behind).
    func discardStaged(_ path: String) {
        try? fileSystem.remove(path)
        if UploadNames.createdFolder(path) { fileSystem.removeEmptyDirectory(FileSystem.parent(of: path)) }
    }

    func ingestStaged(_ path: String, map: String, filename: String, group: String?, replace: Bool) throws -> IngestRecord {
        try ingestStaged(path, map: map, filename: filename, group: group, mode: replace ? .replace : .append)
    }

    /// Hands a staged file to the ingest queue as a drop with `mode` and waits for the outcome
    /// (`onIngestQueue`: the caller runs on that queue already, so the ingest runs here).
    func ingestStaged(_ path: String, map: String, filename: String, group: String?, mode: DropCandidate.Mode,
                      onIngestQueue: Bool = false) throws -> IngestRecord {
        guard let status = try fileSystem.status(path), status.kind == .regular else {
            throw ServiceError.invalid("the upload vanished before it could be ingested")
        }
        // A map dropped as `drop/Wanderwege Bayern/` keeps its work folder there; new maps use their id.
        let title = (try? database { db throws(StorageError) in try db.maps() })?.first { $0.id == map }?.title
        let folder = title.flatMap { t in (try? fileSystem.status(config.dropDir + "/" + t))??.kind == .directory ? t : nil } ?? map
        let candidate = DropCandidate(path: path, map: map, title: folder, group: group, mode: mode,
                                      name: filename, status: status)
        let id = UUID().uuidString.lowercased()
        let processor = self.processor
        let accepted = onIngestQueue ? processor.ingest(candidate, id: id) : ingestQueue.sync { processor.ingest(candidate, id: id) }
        guard accepted else {
            discardStaged(path)
            throw ServiceError.unavailable("tiledrop cannot take data now: less than min_free_space is free under \(config.root); try again later")
        }
        guard let record = try database({ db throws(StorageError) in try db.ingest(id: id) }) else {
            throw ServiceError.notFound("ingest \(id) was not recorded")
        }
        return record
    }

    func maps() throws -> [MapRecord] {
        try database { db throws(StorageError) in try db.maps() }
    }
}
