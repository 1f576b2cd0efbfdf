import GeoModel

/// The daemon's durable state: ingests, publish jobs and maps, in one SQLite file (`state.db`).
///
/// Opened in WAL mode with `synchronous=FULL`, so a committed transaction survives power loss
/// and readers (the HTTP server) never block the writer. Exactly one `StateDatabase` per
/// process writes; its owner serialises access (DESIGN habit 4). The schema is versioned with
/// `PRAGMA user_version` and migrated forward on open.
public final class StateDatabase {
    public let db: SQLiteDatabase
    /// The canonical root paths are stored relative to (nil: stored as given).
    public let root: String?


    /// Opens (creating and migrating) the state database at `path`; with `readOnly`, opens an
    /// existing one for queries only (the HTTP server's connections), without migrating.
    ///
    /// With `root`, file paths (`original_path`, `work_path`, `source_file`) are stored relative
    /// to it and handed out joined to it, so the records stay valid however the root is spelled
    /// or wherever the folder moves (issue 8).
    public init(path: String, readOnly: Bool = false, root: String? = nil) throws(StorageError) {
        db = try SQLiteDatabase(path: path, readOnly: readOnly)
        self.root = root.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if readOnly { return }
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        try StateMigrations.migrate(db)
    }

    /// `path` as stored: relative to the root when inside it.
    func stored(_ path: String) -> String {
        guard let root, path.hasPrefix(root + "/") else { return path }
        return String(path.dropFirst(root.count + 1))
    }

    /// A stored path as the caller uses it: joined to the root when relative.
    func resolved(_ path: String) -> String {
        guard let root, !path.hasPrefix("/") else { return path }
        return root + "/" + path
    }

    /// Runs `body` in one write transaction (see `SQLiteDatabase.transaction`).
    public func transaction<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        try db.transaction(body)
    }

    // MARK: ingests

    static let ingestColumns = "id, map, group_name, filename, size, state, progress, errors, warnings, sha256, original_path, work_path, source_file, feature_count, mode, created_at, updated_at, attempts"

    public func insertIngest(_ r: IngestRecord) throws(StorageError) {
        try db.prepare("INSERT INTO ingests (\(StateDatabase.ingestColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)").run([
            .text(r.id), .text(r.map), r.group.map(SQLiteValue.text) ?? .null, .text(r.filename), .int(r.size),
            .text(r.state.rawValue), .double(r.progress), .text(encode(r.errors)), .text(encode(r.warnings)),
            r.sha256.map(SQLiteValue.text) ?? .null, .text(stored(r.originalPath)), .text(stored(r.workPath)),
            r.sourceFile.map { .text(stored($0)) } ?? .null, r.featureCount.map { .int(Int64($0)) } ?? .null,
            .text(r.mode), .int(r.createdAt), .int(r.updatedAt), .int(Int64(r.attempts)),
        ])
    }

    /// Writes every mutable field of `r` back to its row.
    public func updateIngest(_ r: IngestRecord) throws(StorageError) {
        try db.prepare("""
            UPDATE ingests SET state=?, progress=?, errors=?, warnings=?, sha256=?, work_path=?, source_file=?,
            feature_count=?, size=?, updated_at=?, attempts=? WHERE id=?
            """).run([
            .text(r.state.rawValue), .double(r.progress), .text(encode(r.errors)), .text(encode(r.warnings)),
            r.sha256.map(SQLiteValue.text) ?? .null, .text(stored(r.workPath)), r.sourceFile.map { .text(stored($0)) } ?? .null,
            r.featureCount.map { .int(Int64($0)) } ?? .null, .int(r.size), .int(r.updatedAt), .int(Int64(r.attempts)), .text(r.id),
        ])
    }

    public func ingest(id: String) throws(StorageError) -> IngestRecord? {
        try ingests(where: "id = ?", [.text(id)]).first
    }

    /// Ingests, newest first, optionally only those in `state` or of `map`.
    public func ingests(state: IngestState? = nil, map: String? = nil, limit: Int = 100) throws(StorageError) -> [IngestRecord] {
        var clauses: [String] = []
        var values: [SQLiteValue] = []
        if let state { clauses.append("state = ?"); values.append(.text(state.rawValue)) }
        if let map { clauses.append("map = ?"); values.append(.text(map)) }
        let whereSQL = clauses.isEmpty ? "1" : clauses.joined(separator: " AND ")
        return try ingests(where: "\(whereSQL) ORDER BY seq DESC LIMIT \(max(1, limit))", values)
    }

    /// Ingests not yet finished, oldest first: what start-up must resume.
    public func unfinishedIngests() throws(StorageError) -> [IngestRecord] {
        try ingests(where: "state IN ('upload','processing') ORDER BY seq", [])
    }

    /// The distinct source files of a map's completed ingests, in the order they were appended.
    public func sourceFiles(map: String) throws(StorageError) -> [String] {
        let s = try db.prepare("""
            SELECT source_file FROM ingests WHERE map = ? AND state = 'completed' AND source_file IS NOT NULL
            GROUP BY source_file ORDER BY min(seq)
            """)
        try s.bind([.text(map)])
        var files: [String] = []
        while try s.step() { if let f = s.text(0) { files.append(resolved(f)) } }
        return files
    }

    /// A completed ingest of `map` with the same content hash whose features are still in the source.
    public func completedIngest(map: String, sha256: String) throws(StorageError) -> IngestRecord? {
        try ingests(where: "map = ? AND sha256 = ? AND state = 'completed' AND source_file IS NOT NULL ORDER BY seq LIMIT 1", [.text(map), .text(sha256)]).first
    }

    /// Replace: detaches every source file of `map` except `keeping`'s; returns the files to delete.
    public func detachSources(map: String, keeping id: String) throws(StorageError) -> [String] {
        let files = try sourceFiles(map: map)
        try db.prepare("UPDATE ingests SET source_file = NULL WHERE map = ? AND id != ? AND source_file IS NOT NULL").run([.text(map), .text(id)])
        try db.prepare("DELETE FROM source_compactions WHERE map = ?").run([.text(map)])
        let kept = try ingest(id: id)?.sourceFile
        return files.filter { $0 != kept }
    }

    /// Compaction: points every ingest whose features are in one of `files` at `merged` instead.
    ///
    /// With `lineage` (`merged` is exactly `files` one after another), it also records which
    /// files with which sizes `merged` holds (`compactionParts`).
    public func reassignSources(map: String, from files: [(path: String, size: Int64)], to merged: String, lineage: Bool = true) throws(StorageError) {
        let s = try db.prepare("UPDATE ingests SET source_file = ? WHERE map = ? AND source_file = ?")
        for f in files { try s.run([.text(stored(merged)), .text(map), .text(stored(f.path))]) }
        guard lineage else { return }
        let parts = JSONValue.array(files.map { ["path": .string(stored($0.path)), "size": .int($0.size)] })
        try db.prepare("INSERT OR REPLACE INTO source_compactions (merged, map, parts) VALUES (?, ?, ?)").run([.text(stored(merged)), .text(map), .text(JSONWriter.string(parts))])
    }

    /// The files (with their sizes) a compaction concatenated into `merged`, in order; nil when
    /// `merged` is not a compacted file.
    public func compactionParts(merged: String) throws(StorageError) -> [(path: String, size: Int64)]? {
        let s = try db.prepare("SELECT parts FROM source_compactions WHERE merged = ?")
        try s.bind([.text(stored(merged))])
        guard try s.step(), let text = s.text(0), let list = (try? JSONParser.parse(text))?.arrayValue else { return nil }
        var parts: [(path: String, size: Int64)] = []
        for item in list {
            guard let path = item["path"]?.stringValue, let size = item["size"]?.intValue else { return nil }
            parts.append((resolved(path), Int64(size)))
        }
        return parts
    }

    public func ingestCounts() throws(StorageError) -> [IngestState: Int] {
        let raw = try counts("SELECT state, count(*) FROM ingests GROUP BY state")
        return Dictionary(uniqueKeysWithValues: IngestState.allCases.map { ($0, raw[$0.rawValue] ?? 0) })
    }

    /// Runs a `SELECT key, count(*) … GROUP BY key` query into a dictionary.
    private func counts(_ sql: String) throws(StorageError) -> [String: Int] {
        let s = try db.prepare(sql)
        var result: [String: Int] = [:]
        while try s.step() { if let key = s.text(0) { result[key] = Int(s.int(1)) } }
        return result
    }

    private func ingests(where clause: String, _ values: [SQLiteValue]) throws(StorageError) -> [IngestRecord] {
        let s = try db.prepare("SELECT \(StateDatabase.ingestColumns) FROM ingests WHERE \(clause)")
        try s.bind(values)
        var result: [IngestRecord] = []
        while try s.step() {
            result.append(IngestRecord(
                id: s.text(0) ?? "", map: s.text(1) ?? "", group: s.text(2), filename: s.text(3) ?? "", size: s.int(4),
                state: IngestState(rawValue: s.text(5) ?? "") ?? .failed, progress: s.double(6),
                errors: decode(s.text(7)), warnings: decode(s.text(8)), sha256: s.text(9),
                originalPath: resolved(s.text(10) ?? ""), workPath: resolved(s.text(11) ?? ""), sourceFile: s.text(12).map(resolved),
                featureCount: s.isNull(13) ? nil : Int(s.int(13)), mode: s.text(14) ?? "append",
                createdAt: s.int(15), updatedAt: s.int(16), attempts: Int(s.int(17))))
        }
        return result
    }

    /// Retention: deletes finished rows last updated before `cutoff` (ms since the epoch) and
    /// returns how many ingests and jobs went. Kept whatever their age: completed ingests whose
    /// features are still in a source (they are the source's record and its duplicate check)
    /// and each tileset's latest job (the status and poison check read it).
    public func pruneFinished(before cutoff: Int64) throws(StorageError) -> (ingests: Int, jobs: Int) {
        try db.transaction { () throws(StorageError) -> (ingests: Int, jobs: Int) in
            try db.prepare("""
                DELETE FROM ingests WHERE updated_at < ? AND (state IN ('failed','canceled') OR (state = 'completed' AND source_file IS NULL))
                """).run([.int(cutoff)])
            let ingests = db.changes
            try db.prepare("""
                DELETE FROM jobs WHERE stage IN ('success','failed') AND coalesce(published, created) < ?
                AND seq NOT IN (SELECT max(seq) FROM jobs GROUP BY tileset)
                """).run([.int(cutoff)])
            return (ingests, db.changes)
        }
    }

    // MARK: publish jobs

    /// Queues a publish job for `tileset` unless one is already queued (MTS collapses pending
    /// requests); returns the queued job's id.
    @discardableResult
    public func enqueueJob(tileset: String, id: String, now: Int64) throws(StorageError) -> String {
        try db.transaction { () throws(StorageError) -> String in
            let s = try db.prepare("SELECT id FROM jobs WHERE tileset = ? AND stage = 'queued' ORDER BY seq LIMIT 1")
            try s.bind([.text(tileset)])
            if try s.step(), let existing = s.text(0) { return existing }
            try db.prepare("INSERT INTO jobs (id, tileset, stage, created) VALUES (?, ?, 'queued', ?)").run([.text(id), .text(tileset), .int(now)])
            return id
        }
    }

    /// The oldest queued job whose tileset has no job processing (one active job per tileset).
    public func nextQueuedJob() throws(StorageError) -> PublishJobRecord? {
        try jobs(where: "stage = 'queued' AND tileset NOT IN (SELECT tileset FROM jobs WHERE stage = 'processing') ORDER BY seq LIMIT 1", []).first
    }

    public func updateJob(_ j: PublishJobRecord) throws(StorageError) {
        try db.prepare("UPDATE jobs SET stage=?, published=?, errors=?, warnings=?, layer_stats=?, attempts=?, after_publish=?, recipe=?, memory=? WHERE id=?").run([
            .text(j.stage.rawValue), j.published.map(SQLiteValue.int) ?? .null, .text(encode(j.errors)),
            .text(encode(j.warnings)), j.layerStats.map(SQLiteValue.text) ?? .null, .int(Int64(j.attempts)),
            j.afterPublish.map(SQLiteValue.text) ?? .null, j.recipe.map(SQLiteValue.text) ?? .null, j.memory.map(SQLiteValue.text) ?? .null, .text(j.id),
        ])
    }

    /// Start-up recovery: a job that was processing when the daemon died runs again.
    public func requeueInterruptedJobs() throws(StorageError) {
        try db.execute("UPDATE jobs SET stage = 'queued' WHERE stage = 'processing'")
    }

    /// Start-up, before `requeueInterruptedJobs`: a job that was processing when the daemon died
    /// for the `maxAttempts`-th time fails with `reason` instead of running again (a poison
    /// pill). Returns the jobs it failed.
    ///
    /// An interrupted job for which a newer request is already queued was asked for again with
    /// new input (MTS collapses pending requests): the queued duplicate folds into it and its
    /// count starts over, so only a job that keeps failing on the same input is set aside.
    public func failJobsInterrupted(atLeast maxAttempts: Int, reason: String) throws(StorageError) -> [PublishJobRecord] {
        try db.execute("""
            UPDATE jobs SET attempts = 0 WHERE stage = 'processing' AND tileset IN (SELECT tileset FROM jobs WHERE stage = 'queued');
            DELETE FROM jobs WHERE stage = 'queued' AND tileset IN (SELECT tileset FROM jobs WHERE stage = 'processing');
            """)
        var poisoned = try jobs(where: "stage = 'processing' AND attempts >= ?", [.int(Int64(maxAttempts))])
        for i in poisoned.indices {
            poisoned[i].stage = .failed
            poisoned[i].errors = [reason]
            try updateJob(poisoned[i])
        }
        return poisoned
    }

    /// Shutdown: the running job `id` goes back to the queue, and its start is not counted.
    public func requeueInterruptedByShutdown(id: String) throws(StorageError) {
        try db.prepare("UPDATE jobs SET stage = 'queued', attempts = max(attempts - 1, 0) WHERE id = ? AND stage = 'processing'").run([.text(id)])
    }

    public func jobs(tileset: String, limit: Int = 100) throws(StorageError) -> [PublishJobRecord] {
        try jobs(where: "tileset = ? ORDER BY seq DESC LIMIT \(max(1, limit))", [.text(tileset)])
    }

    /// The most recently finished job (success or failed), for the status's `last_job`.
    public func lastFinishedJob() throws(StorageError) -> PublishJobRecord? {
        try jobs(where: "stage IN ('success', 'failed') ORDER BY seq DESC LIMIT 1", []).first
    }

    /// Queued and processing jobs, oldest first (what `tiledrop status --watch` shows).
    public func unfinishedJobs(limit: Int = 20) throws(StorageError) -> [PublishJobRecord] {
        try jobs(where: "stage IN ('queued', 'processing') ORDER BY seq LIMIT \(max(1, limit))", [])
    }

    public func jobCounts() throws(StorageError) -> [JobStage: Int] {
        let raw = try counts("SELECT stage, count(*) FROM jobs GROUP BY stage")
        return Dictionary(uniqueKeysWithValues: JobStage.allCases.map { ($0, raw[$0.rawValue] ?? 0) })
    }

    func jobs(where clause: String, _ values: [SQLiteValue]) throws(StorageError) -> [PublishJobRecord] {
        let s = try db.prepare("SELECT id, tileset, stage, created, published, errors, warnings, layer_stats, attempts, after_publish, recipe, memory FROM jobs WHERE \(clause)")
        try s.bind(values)
        var result: [PublishJobRecord] = []
        while try s.step() {
            result.append(PublishJobRecord(
                id: s.text(0) ?? "", tileset: s.text(1) ?? "", stage: JobStage(rawValue: s.text(2) ?? "") ?? .failed,
                created: s.int(3), published: s.isNull(4) ? nil : s.int(4), errors: decode(s.text(5)),
                warnings: decode(s.text(6)), layerStats: s.text(7), attempts: Int(s.int(8)), afterPublish: s.text(9),
                recipe: s.text(10), memory: s.text(11)))
        }
        return result
    }

    // MARK: maps and groups

    /// Records a map the first time its folder is seen; later calls leave it unchanged.
    public func ensureMap(_ m: MapRecord, now: Int64) throws(StorageError) {
        // A map and the tileset of the same name are one MapTiler document: they share the UUID.
        try db.prepare("""
            INSERT OR IGNORE INTO maps (id, title, short_name, owner, visibility, created_at, uuid)
            VALUES (?,?,?,?,?,?, coalesce((SELECT uuid FROM tilesets WHERE id = ?), ?))
            """).run([.text(m.id), .text(m.title), .text(m.shortName), .text(m.owner), .text(m.visibility), .int(now),
                      .text(m.id), .text(StateDatabase.newUUID())])
    }

    public func ensureGroup(map: String, title: String, now: Int64) throws(StorageError) {
        try db.prepare("INSERT OR IGNORE INTO groups (map, title, created_at) VALUES (?,?,?)").run([.text(map), .text(title), .int(now)])
    }

    public func maps() throws(StorageError) -> [MapRecord] {
        let s = try db.prepare("SELECT id, title, short_name, owner, visibility, uuid FROM maps ORDER BY id")
        var result: [MapRecord] = []
        while try s.step() {
            result.append(MapRecord(id: s.text(0) ?? "", title: s.text(1) ?? "", shortName: s.text(2) ?? "",
                                    owner: s.text(3) ?? "", visibility: s.text(4) ?? "private", uuid: s.text(5) ?? ""))
        }
        let g = try db.prepare("SELECT title FROM groups WHERE map = ? ORDER BY created_at, title")
        for i in result.indices {
            try g.bind([.text(result[i].id)])
            while try g.step() { result[i].groups.append(g.text(0) ?? "") }
        }
        return result
    }

    // MARK: JSON columns

    private func encode(_ strings: [String]) -> String {
        JSONWriter.string(.array(strings.map(JSONValue.string)))
    }

    private func decode(_ text: String?) -> [String] {
        guard let text, let v = try? JSONParser.parse(text), case .array(let a) = v else { return [] }
        return a.compactMap(\.stringValue)
    }
}
