import Foundation
import Formats
import GeoModel
import Storage
import SystemSupport

/// Turns a ready drop into a source file: claim → read → convert → commit → archive.
///
/// Crash safety follows Maildir: the ingest row is inserted before the file is claimed by
/// `rename()` into the map's hidden work folder; the source is written to a temporary name,
/// fsynced and renamed; the transaction that marks the ingest `completed` with its source
/// file is the point of no return. `recover()` finishes or redoes whatever a crash
/// interrupted, keyed by the ingest id embedded in every file name, so nothing is lost and
/// nothing is appended twice. Runs only on the daemon's serial ingest queue.
final class IngestProcessor: @unchecked Sendable {
    /// Why a conversion stopped early.
    enum Interruption: Error { case stopping, canceled, timedOut(Double) }

    /// The settings in force (a SIGHUP reload changes them; see `SharedConfig`).
    var config: DaemonConfig { settings.current }
    private let settings: SharedConfig
    let paths: DaemonPaths
    let store: StateStore
    let fileSystem: FileSystem
    let logger: Logger
    /// Conditions the status must show (a refused sweep, a pause).
    let notes: StatusNotes
    let clock = MonotonicClock()
    /// Processing attempts after which recovery fails an ingest instead of retrying it.
    static let maxAttempts = 3
    private let onSourceChanged: @Sendable (String) -> Void
    let isStopping: @Sendable () -> Bool
    private let cancellations: LockedStringSet
    /// Files that could neither be claimed nor moved to `failed/`, as they were then; skipped
    /// until they change (ingest queue only).
    private var unclaimable: [String: FileStatus] = [:]
    /// Set while ingestion backs off for disk space (ingest queue only).
    var diskPause: DiskPause?
    /// The last pause's delay, until an ingest completes (so repeated failures back off further).
    var diskBackoff: Double?
    /// Source files no longer referenced; the publish worker deletes them between jobs, when
    /// no tiler can be reading them.
    let retiredSources: LockedStringSet
    /// Wall-clock start of this process's ingest worker (ns): upload files older than this
    /// belong to an earlier run.
    let startedAtNanoseconds = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
    /// Shared with the publish queue: a container install and a publish of the same tileset take turns.
    let tilesetWriters: TilesetWriterLock

    init(config: DaemonConfig, settings: SharedConfig? = nil, store: StateStore, fileSystem: FileSystem, logger: Logger, notes: StatusNotes,
         cancellations: LockedStringSet, retiredSources: LockedStringSet, tilesetWriters: TilesetWriterLock = TilesetWriterLock(),
         onSourceChanged: @escaping @Sendable (String) -> Void, isStopping: @escaping @Sendable () -> Bool) {
        self.tilesetWriters = tilesetWriters
        self.settings = settings ?? SharedConfig(config)
        paths = DaemonPaths(config: config)
        self.store = store
        self.fileSystem = fileSystem
        self.logger = logger
        self.notes = notes
        self.cancellations = cancellations
        self.retiredSources = retiredSources
        self.onSourceChanged = onSourceChanged
        self.isStopping = isStopping
    }

    // MARK: claim

    /// Claims `candidate` and processes it. Returns false when ingestion is paused (low disk)
    /// and the file was left where it is. `id` names the ingest (API uploads choose it so they can wait for the outcome).
    @discardableResult
    func ingest(_ candidate: DropCandidate, id: String = UUID().uuidString.lowercased()) -> Bool {
        if let refused = unclaimable[candidate.path], refused == candidate.status { return true }
        unclaimable[candidate.path] = nil
        guard admitDespiteDiskSpace(candidate.path) else { return false }
        let now = epochMilliseconds()
        let record = IngestRecord(id: id, map: candidate.map, group: candidate.group, filename: candidate.name,
                                  size: candidate.status.size, originalPath: candidate.path,
                                  workPath: paths.workPath(folder: candidate.title, id: id, filename: candidate.name),
                                  mode: candidate.mode.rawValue, createdAt: now, updatedAt: now)
        do {
            try register(record, title: candidate.title)
        } catch {
            logger.error("cannot record the drop \(candidate.path): \(error); it stays in place and is retried")
            return false
        }
        claim(record)
        return true
    }

    /// Records a new ingest (and its map and group) before its file is claimed. `title` is the
    /// map's folder name under `drop/` (default: its id).
    func register(_ record: IngestRecord, title: String? = nil) throws {
        // Only the work folder itself: a map folder (or drop/) that vanished is never re-created.
        let workFolder = FileSystem.parent(of: record.workPath)
        guard (try fileSystem.status(FileSystem.parent(of: workFolder)))?.kind == .directory else {
            throw DaemonError.other("the drop folder \(FileSystem.parent(of: workFolder)) is gone")
        }
        try fileSystem.createDirectories(workFolder, mode: 0o700)
        try store.with { db throws(StorageError) in
            try db.ensureMap(MapRecord(id: record.map, title: title ?? record.map, shortName: record.map, owner: owner), now: record.createdAt)
            if let group = record.group { try db.ensureGroup(map: record.map, title: group, now: record.createdAt) }
            try db.insertIngest(record)
        }
    }

    /// The account recorded on maps (MapHub `owner`, MTS `username`).
    var owner: String { config.owner ?? currentUserName() }

    /// Claims a recorded ingest's file by renaming it into the work folder, then processes it.
    func claim(_ initial: IngestRecord) {
        var record = initial
        let candidate = (path: record.originalPath, map: record.map, group: record.group)
        do {
            try fileSystem.rename(candidate.path, to: record.workPath)
            try fileSystem.syncDirectory(FileSystem.parent(of: record.workPath))
        } catch {
            refuseClaim(&record, error: error)
            return
        }
        logger.info("ingest \(record.id): claimed \(candidate.path) for map \(candidate.map)\(candidate.group.map { " (group \($0))" } ?? "")")
        process(record)
    }

    /// The claim failed. A vanished file is canceled; a file still there cannot be claimed for
    /// good (say EACCES), so it goes to `failed/` once, or is remembered and skipped while it is
    /// unchanged, so that no scan ever creates a second row for it.
    private func refuseClaim(_ record: inout IngestRecord, error: SystemError) {
        let candidate = (path: record.originalPath, map: record.map)
        guard let status = try? fileSystem.status(candidate.path) else {
            record.state = .canceled
            record.errors = ["the file could not be claimed (\(error.message)); it was removed or renamed before tiledrop read it"]
            record.updatedAt = epochMilliseconds()
            _ = save(record)
            logger.warning("\(candidate.path): \(record.errors[0])")
            return
        }
        let message = "the file could not be moved into the work folder \(FileSystem.parent(of: record.workPath)) (\(error)); fix the folder's permissions and drop it again"
        record.workPath = candidate.path
        fail(&record, message: message)
        if (try? fileSystem.status(candidate.path)) != nil { unclaimable[candidate.path] = status }
    }

    // MARK: process

    /// Converts a claimed file into the map's source; every outcome is recorded.
    func process(_ initial: IngestRecord) {
        ThreadPriority.enter(config.background)
        var record = initial
        record.state = .processing
        record.progress = 0
        record.attempts += 1 // a file that keeps killing the daemon is failed by recovery after 3
        record.updatedAt = epochMilliseconds()
        guard save(record) else { return }
        if cancellations.remove(record.id) {
            fail(&record, message: "canceled by request", state: .canceled)
            return
        }
        let started = clock.now()
        do {
            let status = try fileSystem.status(record.workPath)
            guard let status else { throw DaemonError.other("the claimed file \(record.workPath) is missing") }
            if status.kind == .symlink {
                throw DaemonError.other("\(record.filename) is a symbolic link; symlinks are not followed; copy the file instead")
            }
            guard status.kind == .regular else {
                throw DaemonError.other("\(record.filename) is not a regular file (a FIFO, socket or device); tiledrop reads only regular files")
            }
            record.size = status.size
            if status.size > config.maxFileBytes {
                throw DaemonError.other("\(record.filename) is \(status.size) bytes, more than max_file_size (\(config.maxFileBytes)); split the file or raise max_file_size")
            }
            if status.size == 0 { throw DaemonError.other("\(record.filename) is empty (0 bytes); drop the complete file") }
            let installer = TilesetInstaller(fileSystem: fileSystem)
            if installer.isContainer(record.workPath) || record.filename.lowercased().hasSuffix(".mbtiles") {
                try installContainer(&record, installer: installer, started: started)
                return
            }
            record.sha256 = try hashFile(record.workPath, id: record.id, started: started)
            if let earlier = try store.with({ db throws(StorageError) in try db.completedIngest(map: record.map, sha256: record.sha256!) }),
               record.mode == DropCandidate.Mode.append.rawValue {
                record.warnings.append("the same content was already ingested into map \(record.map) as ingest \(earlier.id) (\(earlier.filename)); not appended again")
                try complete(&record, sourceFile: nil, featureCount: 0)
                return
            }
            let (sourceFile, count, nextID) = try convert(&record, started: started)
            try complete(&record, sourceFile: sourceFile, featureCount: count, nextFeatureID: nextID)
        } catch {
            removeTemporarySource(record)
            // A reader stopped by `shouldStop` fails with some read error: the cause is the interruption.
            switch (error as? Interruption) ?? pendingInterruption(record.id, started: started) {
            case .stopping?:
                record.attempts -= 1 // a clean shutdown is not the file's fault
                _ = save(record)
                logger.info("ingest \(record.id): interrupted by shutdown; it resumes at the next start")
            case .canceled?:
                fail(&record, message: "canceled by request", state: .canceled)
            case .timedOut(let seconds)?:
                fail(&record, message: "processing took longer than max_processing_seconds (\(Int(seconds)) s); split the file or raise the limit")
            case nil where DiskSpace.isExhaustion(error):
                putBack(&record, reason: "no space left on the device (\(error))", temporary: false)
            case nil where DiskSpace.isTemporary(error):
                putBack(&record, reason: "a temporary system error (\(error))", temporary: true)
            case nil:
                fail(&record, message: "\(error)")
            }
        }
    }

    /// Why the ingest `id` (started at `started`) must stop now, if it must: shutdown, a cancel
    /// request (consumed), or `max_processing_seconds` passed.
    private func pendingInterruption(_ id: String, started: Double) -> Interruption? {
        if isStopping() { return .stopping }
        if cancellations.remove(id) { return .canceled }
        if clock.now() - started > config.maxProcessingSeconds { return .timedOut(config.maxProcessingSeconds) }
        return nil
    }

    /// The same question without consuming a cancel request, cheap enough to ask on every
    /// buffer refill of a reader (`ReaderLimits.shouldStop`) or hashing and copy loop.
    private func stopCheck(_ id: String, started: Double) -> @Sendable () -> Bool {
        let (isStopping, cancellations, clock, limit) = (isStopping, cancellations, clock, config.maxProcessingSeconds)
        return { isStopping() || cancellations.contains(id) || clock.now() - started > limit }
    }

    /// A dropped `.mbtiles` is a tileset container: validated and installed as `tiles/<map>.mbtiles`.
    ///
    /// The install holds the tileset's writer lock: while a publish job writes the same
    /// tileset it waits (logged; shutdown and cancel still hold), then installs, so the later
    /// result is the one in place and neither is lost to a race. `max_processing_seconds`
    /// counts from when the lock is held.
    private func installContainer(_ record: inout IngestRecord, installer: TilesetInstaller, started: Double) throws {
        guard installer.isContainer(record.workPath) else {
            throw DaemonError.other("\(record.filename) is named .mbtiles but is not an SQLite database; drop a real MBTiles file")
        }
        try fileSystem.createDirectories(config.tilesDir)
        let destination = paths.tileset(record.map)
        let limit = config.maxProcessingSeconds
        let id = record.id, map = record.map, path = record.workPath, filename = record.filename
        let interrupt = { [isStopping, cancellations] () throws -> Void in
            if isStopping() { throw Interruption.stopping }
            if cancellations.remove(id) { throw Interruption.canceled }
        }
        let tiles = try tilesetWriters.withTileset(map, as: "ingest \(id) (container \(filename))", onWait: { [logger] holder in
            logger.info("ingest \(id): tiles/\(map) is being written by \(holder); the container install waits for it to finish")
        }, shouldGiveUp: interrupt) { [clock] in
            let locked = max(started, clock.now())
            return try installer.install(path, as: filename, destination: destination) {
                try interrupt()
                if clock.now() - locked > limit { throw Interruption.timedOut(limit) }
            }
        }
        logger.info("ingest \(record.id): installed tileset container \(record.filename) as \(destination) (\(tiles) tiles)")
        try complete(&record, sourceFile: nil, featureCount: 0)
    }

    /// Streams features from the claimed file into a temporary source, then renames it into place.
    ///
    /// Each feature gets the map's next stable id (`tiledrop_id`); a changeset's rewrite keeps
    /// the ids its lines carry (see `FeatureIDs`). Returns the source, its feature count and the
    /// map's next id after it, which `complete` commits with the ingest.
    private func convert(_ record: inout IngestRecord, started: Double) throws -> (String?, Int, Int64) {
        var limits = ReaderLimits.default
        limits.shouldStop = stopCheck(record.id, started: started)
        let reader = try FeatureReaders.open(path: record.workPath, displayName: record.filename, limits: limits)
        try fileSystem.createDirectories(paths.sourceFolder(map: record.map))
        let temporary = paths.temporarySourceFile(map: record.map, id: record.id)
        let writer = try GeoJSONSeqWriter(path: temporary)
        var ids = try FeatureIDs(first: nextFeatureID(map: record.map), keepingExisting: record.mode == DropCandidate.Mode.rewrite.rawValue)
        var lastProgress = clock.now()
        var count = 0
        while let feature = try reader.next() {
            var f = feature
            f.sourceID = ids.assign(f.sourceID)
            if let group = record.group, f.properties["group"] == nil { f.properties["group"] = .string(group) }
            try writer.write(f)
            count += 1
            if count % 64 == 0 {
                let now = clock.now()
                if let interruption = pendingInterruption(record.id, started: started) {
                    _ = try? writer.finish(sync: false)
                    throw interruption
                }
                if now - lastProgress > 1 {
                    lastProgress = now
                    record.progress = min(0.99, Double(reader.bytesRead) / Double(max(record.size, 1)))
                    record.updatedAt = epochMilliseconds()
                    _ = save(record)
                }
            }
        }
        try writer.finish(sync: true)
        record.warnings.append(contentsOf: reader.warnings.map(\.message))
        let groups = reader.groups
        if !groups.isEmpty {
            try store.with { db throws(StorageError) in
                for g in groups { try db.ensureGroup(map: record.map, title: g.title, now: record.updatedAt) }
            }
        }
        if count == 0 {
            try fileSystem.remove(temporary)
            record.warnings.append("\(record.filename) holds no features; nothing was appended to map \(record.map)")
            return (nil, 0, ids.next)
        }
        let existing = try store.with { db throws(StorageError) in try db.sourceFiles(map: record.map) }
        let existingBytes = existing.reduce(Int64(0)) { $0 + ((try? fileSystem.status($1))??.size ?? 0) }
        let total = existingBytes + Int64(writer.bytesWritten)
        if record.mode == DropCandidate.Mode.append.rawValue && total > config.maxSourceBytes {
            try fileSystem.remove(temporary)
            throw DaemonError.other("appending \(record.filename) would make map \(record.map)'s source \(total) bytes, more than max_source_size (\(config.maxSourceBytes)); drop it into the map's \(DropNames.replaceFolder)/ folder to replace the source instead, or raise max_source_size")
        }
        let final = paths.sourceFile(map: record.map, id: record.id)
        try fileSystem.rename(temporary, to: final)
        try fileSystem.syncDirectory(paths.sourceFolder(map: record.map))
        return (final, count, ids.next)
    }

    /// The point of no return: records the source, then archives the original.
    private func complete(_ record: inout IngestRecord, sourceFile: String?, featureCount: Int, nextFeatureID: Int64? = nil) throws {
        record.state = .completed
        record.progress = 1
        record.sourceFile = sourceFile
        record.featureCount = featureCount
        record.updatedAt = epochMilliseconds()
        let detached: [String] = try store.with { db throws(StorageError) in
            try db.transaction { () throws(StorageError) -> [String] in
                try db.updateIngest(record)
                if sourceFile != nil, let nextFeatureID { try db.advanceFeatureIDs(map: record.map, to: nextFeatureID) }
                guard record.mode != DropCandidate.Mode.append.rawValue else { return [] }
                return try db.detachSources(map: record.map, keeping: record.id)
            }
        }
        retiredSources.insert(contentsOf: detached)
        diskBackoff = nil
        logger.info("ingest \(record.id): completed, \(featureCount) features into map \(record.map)\(record.warnings.isEmpty ? "" : ", \(record.warnings.count) warnings")")
        finishCompleted(record)
        if sourceFile != nil || !detached.isEmpty {
            compactIfNeeded(map: record.map)
            onSourceChanged(record.map)
            refreshIndex(map: record.map)  // after the publish is queued, so it never waits for the index
        }
    }

    func fail(_ record: inout IngestRecord, message: String, state: IngestState = .failed) {
        record.state = state
        record.errors = [message]
        record.updatedAt = epochMilliseconds()
        _ = save(record)
        logger.warning("ingest \(record.id): \(state.rawValue): \(message)")
        finishFailed(record)
    }

    // MARK: finishing moves (also used by recovery)

    /// Moves the original out of the work folder into `archive/<map>/` (or deletes it).
    func finishCompleted(_ record: IngestRecord) {
        guard (try? fileSystem.status(record.workPath)) != nil else { return }
        do {
            if config.afterSuccess == "delete" {
                try fileSystem.remove(record.workPath)
                return
            }
            let folder = paths.archiveFolder(map: record.map)
            try fileSystem.createDirectories(folder)
            let destination = paths.unusedPath(in: folder, name: record.filename, fileSystem: fileSystem)
            try fileSystem.rename(record.workPath, to: destination)
            try fileSystem.syncDirectory(folder)
        } catch {
            logger.error("ingest \(record.id): cannot archive \(record.workPath): \(error)")
        }
    }

    /// Moves the original into `failed/<map>/` beside `<name>.error.json` saying why.
    func finishFailed(_ record: IngestRecord) {
        guard (try? fileSystem.status(record.workPath)) != nil else { return }
        var report = JSONObject()
        report["ingest_id"] = .string(record.id)
        report["filename"] = .string(record.filename)
        report["map"] = .string(record.map)
        report["state"] = .string(record.state.rawValue)
        report["errors"] = .array(record.errors.map { ["message": .string($0)] })
        report["warnings"] = .array(record.warnings.map { ["message": .string($0)] })
        report["time"] = .string(HTTPDate.format(milliseconds: record.updatedAt))
        do {
            try moveToFailed(record.workPath, folder: paths.failedFolder(map: record.map), name: record.filename, report: report)
        } catch {
            logger.error("ingest \(record.id): cannot move \(record.workPath) to failed/: \(error)")
        }
    }

    /// A file dropped into `drop/` itself belongs to no map: it moves to `failed/` beside an
    /// `.error.json` saying to use `drop/<map>/`, and the returned message goes to the status.
    func rejectMisplaced(_ candidate: DropCandidate) -> String? {
        let message = "\(candidate.name) was dropped into drop/ itself, outside any map; it was moved to failed/\(candidate.name). Put files into a map folder, drop/<map>/\(candidate.name) (any folder under drop/ is a map)"
        var report = JSONObject()
        report["filename"] = .string(candidate.name)
        report["state"] = .string(IngestState.failed.rawValue)
        report["errors"] = .array([["message": .string(message)]])
        report["time"] = .string(HTTPDate.format(milliseconds: epochMilliseconds()))
        do {
            try moveToFailed(candidate.path, folder: config.failedDir, name: candidate.name, report: report)
        } catch {
            // Most likely it was moved away meanwhile: nothing to report.
            logger.debug("\(candidate.path): not moved to failed/: \(error)")
            return nil
        }
        logger.warning(message)
        return message
    }

    /// Writes `<name>.error.json` with `report` into `folder`, then moves `path` beside it.
    ///
    /// The reason comes first, so a failed file never lacks one. A crash between the two leaves
    /// the file where it was (the work folder, or `drop/`) and a report without its file; the
    /// retry (recovery, or the next scan) recognises that report as its own (same ingest id, or
    /// the same name for a file outside any map) and writes over it, so no orphan remains.
    private func moveToFailed(_ path: String, folder: String, name: String, report: JSONObject) throws(SystemError) {
        try fileSystem.createDirectories(folder)
        let owner = report["ingest_id"].map { ("ingest_id", $0) } ?? ("filename", report["filename"] ?? .null)
        let destination = paths.unusedPath(in: folder, name: name, fileSystem: fileSystem) { [fileSystem] existing in
            guard let bytes = try? fileSystem.readRegularFile(existing, maxBytes: 1 << 20),
                  let earlier = try? JSONParser.parse(bytes) else { return false }
            return earlier[owner.0] == owner.1
        }
        var w = JSONWriter()
        w.write(report)
        w.bytes.append(0x0A)
        try fileSystem.writeAtomically(destination + ".error.json", bytes: w.bytes)
        try fileSystem.rename(path, to: destination)
        try fileSystem.syncDirectory(folder)
    }

    // MARK: helpers

    func save(_ record: IngestRecord) -> Bool {
        do {
            try store.with { db throws(StorageError) in try db.updateIngest(record) }
            return true
        } catch {
            logger.error("ingest \(record.id): cannot record progress: \(error)")
            return false
        }
    }

    private func removeTemporarySource(_ record: IngestRecord) {
        try? fileSystem.remove(paths.temporarySourceFile(map: record.map, id: record.id))
    }

    /// SHA-256 of the file, 1 MiB at a time; stops between reads on shutdown, cancel or timeout.
    private func hashFile(_ path: String, id: String, started: Double) throws -> String {
        let fd = try fileSystem.openRegularFileForReading(path)
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            if let interruption = pendingInterruption(id, started: started) { throw interruption }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "read", target: path, errno: errno)
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize()
    }

    private func currentUserName() -> String {
        ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
    }
}
