import Formats
import GeoModel
import Storage
import SystemSupport

/// Keeps each map's spatial index (`sources/<map>/.index.sqlite`, see `SourceIndex`) in step
/// with the map's source files as `state.db` lists them.
///
/// The source files are the truth and the index a cache of them: `synchronize` drops the
/// records of files the map no longer has (a replace, a compaction, a deleted source),
/// indexes each listed file it lacks (one transaction per file), and starts over from the
/// files when the index is missing, damaged or of another version. A crash between writing
/// a source and indexing it therefore loses nothing and duplicates nothing; the next
/// synchronisation (after the next ingest, at start-up, or before a lookup) catches up.
struct SourceIndexer {
    let paths: DaemonPaths
    let store: StateStore
    let logger: Logger

    /// The index file's name in the map's source folder. The start-up sweep leaves every name
    /// starting with it alone (its `-wal` and `-shm` companions too).
    static let fileName = ".index.sqlite"

    func indexPath(map: String) -> String { paths.sourceFolder(map: map) + "/" + Self.fileName }

    /// True for the index file and SQLite's companions of it.
    static func isIndexFile(_ name: String) -> Bool { name.hasPrefix(fileName) }

    /// The map's source files (`state.db`), in source order.
    func sourceFiles(map: String) throws -> [String] {
        try store.with { db throws(StorageError) in try db.sourceFiles(map: map) }
    }

    /// The map's index, brought up to date with `files` (default: what `state.db` lists).
    func synchronize(map: String, files listed: [String]? = nil, shouldStop: (@Sendable () -> Bool)? = nil) throws -> SourceIndex {
        let files = try listed ?? sourceFiles(map: map)
        do {
            return try update(open(map: map), map: map, files: files, shouldStop: shouldStop)
        } catch {
            guard Self.isDamage(error) else { throw error }
            logger.warning("map \(map): the source index is damaged (\(error)); rebuilding it from the source files")
            remove(map: map)
            return try update(open(map: map), map: map, files: files, shouldStop: shouldStop)
        }
    }

    /// Deletes the map's index (it is rebuilt when next needed).
    func remove(map: String) {
        let fileSystem = FileSystem()
        for suffix in ["", "-wal", "-shm", "-journal"] { try? fileSystem.remove(indexPath(map: map) + suffix) }
    }

    /// The id the next new feature of `map` gets: the counter in `state.db`, or one past the
    /// largest id in the index when that is higher (a `state.db` restored from an old backup).
    func nextFeatureID(map: String, index: SourceIndex?) throws -> Int64 {
        let counter = try store.with { db throws(StorageError) in try db.nextFeatureID(map: map) }
        let indexed = try index?.summary().maxSourceID ?? 0
        return max(counter, indexed + 1)
    }

    /// The index entry for one source line.
    static func entry(_ line: SourceLineReader.Line) -> SourceIndex.Entry {
        let f = line.feature
        return SourceIndex.Entry(offset: line.offset, length: line.length, sourceID: f?.sourceID,
                                 key: f?.id.map { JSONWriter.string($0) }, bbox: f?.geometry?.boundingBox)
    }

    private func open(map: String) throws -> SourceIndex {
        let path = indexPath(map: map)
        let first: Result<SourceIndex, StorageError> = Result { () throws(StorageError) in try SourceIndex(path: path) }
        switch first {
        case .success(let index): return index
        case .failure(let error):
            guard Self.isDamage(error) else { throw error }
            logger.warning("map \(map): \(error); rebuilding the source index")
            remove(map: map)
            return try SourceIndex(path: path)
        }
    }

    private func update(_ index: SourceIndex, map: String, files: [String], shouldStop: (@Sendable () -> Bool)?) throws -> SourceIndex {
        let fileSystem = FileSystem()
        var sizes: [String: Int64] = [:]
        for path in files { sizes[FileSystem.name(of: path)] = try fileSystem.status(path)?.size ?? -1 }
        let indexed = try index.files()
        let stale = indexed.filter { sizes[$0.name] != $0.size }.map(\.name)
        try index.removeFiles(stale)
        let present = Set(indexed.map(\.name)).subtracting(stale)
        for path in files where !present.contains(FileSystem.name(of: path)) {
            let started = MonotonicClock().now()
            var limits = ReaderLimits.default
            limits.shouldStop = shouldStop
            let reader = try SourceLineReader(path: path, limits: limits)
            var count = 0
            try index.addFile(FileSystem.name(of: path), size: reader.size) { add in
                while let line = try reader.next() {
                    try add(Self.entry(line))
                    count += 1
                }
            }
            logger.debug("map \(map): indexed \(count) features of \(path) in \(Int((MonotonicClock().now() - started) * 1000)) ms")
        }
        return index
    }

    /// Errors that mean the index file itself is bad (so it is rebuilt), not a passing condition.
    static func isDamage(_ error: Error) -> Bool {
        switch error as? StorageError {
        case .invalid?: return true
        case .sqlite(_, let code, _)?:
            // SQLITE_CORRUPT 11, SQLITE_NOTADB 26, SQLITE_ERROR 1 ("no such table", "malformed schema")
            return [11, 26, 1].contains(code & 0xFF)
        default: return false
        }
    }
}
