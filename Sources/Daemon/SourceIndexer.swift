import Formats
import GeoModel
import Storage
import SystemSupport
import Tiling

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
    ///
    /// Only the ingest queue, which changes the file list, passes `pruning` (the default) and
    /// drops the rows of files no longer listed. Readers on other threads (changesets, tile
    /// lookups) leave them: their list may be a moment older than the ingest worker's, and
    /// rows of files a reader does not ask for never reach its answers.
    func synchronize(map: String, files listed: [String]? = nil, pruning: Bool = true,
                     shouldStop: (@Sendable () -> Bool)? = nil) throws -> SourceIndex {
        let files = try listed ?? sourceFiles(map: map)
        do {
            return try update(open(map: map), map: map, files: files, pruning: pruning, shouldStop: shouldStop)
        } catch {
            guard Self.isDamage(error) else { throw error }
            logger.warning("map \(map): the source index is damaged (\(error)); rebuilding it from the source files")
            remove(map: map)
            return try update(open(map: map), map: map, files: files, pruning: pruning, shouldStop: shouldStop)
        }
    }

    /// The map's feature count from its index, without reading or changing anything: nil when
    /// there is no index or it does not describe exactly `files` (say, an ingest is being indexed).
    func featureCount(map: String, files: [String]) -> Int? {
        let fileSystem = FileSystem()
        guard (try? fileSystem.status(indexPath(map: map))) != nil, let index = try? SourceIndex(path: indexPath(map: map)),
              let indexed = try? index.files() else { return nil }
        var sizes: [String: Int64] = [:]
        for file in indexed { sizes[file.name] = file.size }
        guard indexed.count == files.count,
              files.allSatisfy({ (try? fileSystem.status($0))??.size == sizes[FileSystem.name(of: $0)] }) else { return nil }
        return indexed.reduce(0) { $0 + $1.features }
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
    static func entry(_ line: SourceLineReader.Line) -> SourceIndex.Entry { SourceIndex.Entry(line) }

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

    private func update(_ index: SourceIndex, map: String, files: [String], pruning: Bool,
                        shouldStop: (@Sendable () -> Bool)?) throws -> SourceIndex {
        let fileSystem = FileSystem()
        var sizes: [String: Int64] = [:]
        for path in files { sizes[FileSystem.name(of: path)] = try fileSystem.status(path)?.size ?? -1 }
        let indexed = try index.files()
        // A listed file whose size changed is indexed again; one no longer listed goes when pruning.
        let stale = indexed.filter { file in sizes[file.name].map { $0 != file.size } ?? pruning }.map(\.name)
        try index.removeFiles(stale)
        let present = Set(indexed.map(\.name)).subtracting(stale)
        for path in files where !present.contains(FileSystem.name(of: path)) {
            let started = MonotonicClock().now()
            var limits = ReaderLimits.default
            limits.shouldStop = shouldStop
            let count = try index.add(sourceFile: path, limits: limits)
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

extension SourceIndex.Entry {
    /// The entry for one source line: its place, ids, bounding box and Web Mercator cell.
    public init(_ line: SourceLineReader.Line) {
        let f = line.feature
        let bbox = f?.geometry?.boundingBox
        self.init(offset: line.offset, length: line.length, sourceID: f?.sourceID,
                  key: f?.id.map { JSONWriter.string($0) }, bbox: bbox, cell: bbox.map(SourceCell.init(mercator:)))
    }
}

extension SourceCell {
    /// The cell of a longitude/latitude box in Web Mercator (z14 tiles at the deepest level),
    /// as the tiler projects it: latitudes clamped to the Mercator limit, longitudes unwrapped.
    public init(mercator box: BoundingBox) {
        let (x0, y0) = WebMercator.project(lon: box.west, lat: box.north)
        let (x1, y1) = WebMercator.project(lon: box.east, lat: box.south)
        self.init(x0: x0, y0: y0, x1: x1, y1: y1)
    }

    /// The probes for the cells meeting a longitude/latitude box in Web Mercator.
    public static func probes(mercator box: BoundingBox) -> [Probe] {
        let (x0, y0) = WebMercator.project(lon: box.west, lat: box.north)
        let (x1, y1) = WebMercator.project(lon: box.east, lat: box.south)
        return probes(x0: x0, y0: y0, x1: x1, y1: y1)
    }
}

extension SourceIndex {
    /// Reads the source file at `path` and adds every line of it, in one transaction; returns
    /// the lines added (0 when the file was indexed already).
    @discardableResult
    public func add(sourceFile path: String, limits: ReaderLimits = .default) throws -> Int {
        let reader = try SourceLineReader(path: path, limits: limits)
        var count = 0
        try addFile(FileSystem.name(of: path), size: reader.size) { add in
            while let line = try reader.next() {
                try add(Entry(line))
                count += 1
            }
        }
        return count
    }
}
