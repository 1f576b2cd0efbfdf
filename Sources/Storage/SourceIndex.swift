import GeoModel

/// The spatial index of one map's source: a sidecar SQLite file in the map's source folder
/// (`sources/<map>/.index.sqlite`) with one row per feature line — its source file, byte
/// offset and length, its stable id (`tiledrop_id`), its GeoJSON `id`, its bounding box and
/// the quadtree cell that holds the box (`SourceCell`, indexed) — so the features near a tile,
/// or with given ids, are found without reading the map.
///
/// The index is a cache of the source files, never the truth: each indexed file is recorded
/// with its size, and rows are added together with their file's record in one transaction,
/// so a crash leaves a file either fully indexed or not at all. `SourceIndexer` (Daemon)
/// compares the records with the map's file list and indexes what is missing.
public final class SourceIndex {
    /// One indexed feature line.
    public struct Entry: Sendable, Hashable {
        public var offset: Int64
        public var length: Int
        /// `tiledrop_id`; nil for lines written before ids existed.
        public var sourceID: Int64?
        /// The feature's GeoJSON `id` as compact JSON (`12`, `"a"`); nil without one.
        public var key: String?
        /// nil for a feature without geometry (it touches no tile).
        public var bbox: BoundingBox?
        /// The cell holding the box (in the caller's projection); nil without a box.
        public var cell: SourceCell?

        public init(offset: Int64, length: Int, sourceID: Int64?, key: String?, bbox: BoundingBox?, cell: SourceCell?) {
            self.offset = offset
            self.length = length
            self.sourceID = sourceID
            self.key = key
            self.bbox = bbox
            self.cell = bbox == nil ? nil : cell
        }
    }

    /// What the index records about one source file.
    public struct IndexedFile: Sendable, Hashable {
        public var name: String
        public var size: Int64
        public var features: Int
        /// Lines without a `tiledrop_id` (written by an older version).
        public var withoutIDs: Int
        /// The largest `tiledrop_id` in the file.
        public var maxSourceID: Int64?
    }

    /// A row found by a lookup: which file, and the entry.
    public struct Hit: Sendable, Hashable {
        public var file: String
        public var entry: Entry

        public init(file: String, entry: Entry) {
            self.file = file
            self.entry = entry
        }
    }

    static let schemaVersion: Int64 = 2
    public let database: SQLiteDatabase

    /// Opens or creates the index at `path` (never through a symbolic link). Throws
    /// `StorageError.invalid` when the file is not an index of this version — the caller
    /// removes it and builds a new one.
    public init(path: String) throws(StorageError) {
        database = try SQLiteDatabase(path: path, followSymlinks: false)
        // WAL with NORMAL: a crash may lose the last transactions (the indexer adds those files
        // again), never the file. 8 MB of cache keeps a large file's inserts out of the WAL
        // until the commit.
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-8192")
        let version = try database.scalarInt("PRAGMA user_version") ?? 0
        if version == 0 {
            try database.transaction { () throws(StorageError) in
                guard try database.scalarInt("PRAGMA user_version") == 0 else { return }
                try database.execute(Self.schema)
            }
        } else if version != Self.schemaVersion {
            throw StorageError.invalid(path: path, reason: "index schema version \(version), expected \(Self.schemaVersion)")
        }
        guard try database.scalarInt("SELECT count(*) FROM sqlite_master WHERE name IN ('files','features','features_cell')") == 3 else {
            throw StorageError.invalid(path: path, reason: "not a tiledrop source index (tables missing)")
        }
    }

    static let schema = """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            features INTEGER NOT NULL,
            without_ids INTEGER NOT NULL,
            max_source_id INTEGER
        );
        CREATE TABLE features (
            id INTEGER PRIMARY KEY,
            file INTEGER NOT NULL REFERENCES files(id),
            offset INTEGER NOT NULL,
            length INTEGER NOT NULL,
            source_id INTEGER,
            key TEXT,
            level INTEGER,
            start INTEGER,
            west REAL, south REAL, east REAL, north REAL
        );
        CREATE INDEX features_cell ON features (file, start);
        CREATE INDEX features_key ON features (key) WHERE key IS NOT NULL;
        PRAGMA user_version = 2;
        """

    // MARK: files

    /// Every indexed file.
    public func files() throws(StorageError) -> [IndexedFile] {
        let s = try database.prepare("SELECT name, size, features, without_ids, max_source_id FROM files")
        var out: [IndexedFile] = []
        while try s.step() {
            out.append(IndexedFile(name: s.text(0) ?? "", size: s.int(1), features: Int(s.int(2)), withoutIDs: Int(s.int(3)),
                                   maxSourceID: s.isNull(4) ? nil : s.int(4)))
        }
        return out
    }

    /// Adds `name` (of `size` bytes) with the entries `fill` hands to its `add` closure, in
    /// one transaction; a file already indexed is left alone (false).
    @discardableResult
    public func addFile(_ name: String, size: Int64,
                        _ fill: (_ add: (Entry) throws -> Void) throws -> Void) throws -> Bool {
        try database.execute("BEGIN IMMEDIATE")
        do {
            guard try database.scalarInt("SELECT id FROM files WHERE name = ?", [.text(name)]) == nil else {
                try database.execute("ROLLBACK")
                return false
            }
            try database.prepare("INSERT INTO files (name, size, features, without_ids) VALUES (?, ?, 0, 0)").run([.text(name), .int(size)])
            let file = database.lastInsertRowID
            let row = try database.prepare("INSERT INTO features (file, offset, length, source_id, key, level, start, west, south, east, north) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
            var count = 0, withoutIDs = 0
            var maxID: Int64?
            try fill { (e: Entry) throws in
                let b = e.bbox
                try row.run([.int(file), .int(e.offset), .int(Int64(e.length)), e.sourceID.map(SQLiteValue.int) ?? .null,
                              e.key.map(SQLiteValue.text) ?? .null, e.cell.map { .int(Int64($0.level)) } ?? .null, e.cell.map { .int($0.start) } ?? .null,
                              Self.value(b?.west), Self.value(b?.south), Self.value(b?.east), Self.value(b?.north)])
                count += 1
                if let id = e.sourceID { maxID = max(maxID ?? id, id) } else { withoutIDs += 1 }
            }
            try database.prepare("UPDATE files SET features = ?, without_ids = ?, max_source_id = ? WHERE id = ?")
                .run([.int(Int64(count)), .int(Int64(withoutIDs)), maxID.map(SQLiteValue.int) ?? .null, .int(file)])
            try database.execute("COMMIT")
            return true
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    /// Forgets `names` and their rows, in one transaction.
    public func removeFiles(_ names: [String]) throws(StorageError) {
        guard !names.isEmpty else { return }
        try database.transaction { () throws(StorageError) in
            for name in names {
                guard let file = try database.scalarInt("SELECT id FROM files WHERE name = ?", [.text(name)]) else { continue }
                try database.prepare("DELETE FROM features WHERE file = ?").run([.int(file)])
                try database.prepare("DELETE FROM files WHERE id = ?").run([.int(file)])
            }
        }
    }

    /// Compaction that copied `parts` byte for byte, one after another, into `merged`: their
    /// rows move to `merged` at their new offsets, in one transaction, without reading any file.
    public func merge(_ parts: [String], into merged: String, size: Int64) throws(StorageError) {
        try database.transaction { () throws(StorageError) in
            try database.prepare("INSERT INTO files (name, size, features, without_ids) VALUES (?, ?, 0, 0)").run([.text(merged), .int(size)])
            let target = database.lastInsertRowID
            var base: Int64 = 0
            for name in parts {
                let s = try database.prepare("SELECT id, size FROM files WHERE name = ?")
                try s.bind([.text(name)])
                guard try s.step() else { throw StorageError.invalid(path: database.path, reason: "\(name) is not indexed") }
                let (file, size) = (s.int(0), s.int(1))
                try database.prepare("UPDATE features SET file = ?, offset = offset + ? WHERE file = ?").run([.int(target), .int(base), .int(file)])
                try database.prepare("DELETE FROM files WHERE id = ?").run([.int(file)])
                base += size
            }
            guard base == size else { throw StorageError.invalid(path: database.path, reason: "merged size \(size) is not the parts' \(base)") }
            try database.prepare("""
                UPDATE files SET features = (SELECT count(*) FROM features WHERE file = ?1),
                                 without_ids = (SELECT count(*) FROM features WHERE file = ?1 AND source_id IS NULL),
                                 max_source_id = (SELECT max(source_id) FROM features WHERE file = ?1) WHERE id = ?1
                """).run([.int(target)])
        }
    }

    // MARK: lookups

    /// Features in `file` whose box intersects `box` (edges touching count), in source order;
    /// `probes` (`SourceCell.probes` for the same box, in the projection the entries' cells
    /// were made with) narrow the rows read. `body` returns false to stop early. Holds the
    /// matching entries of the file (not their features) while it sorts them.
    public func entries(in file: String, probes: [SourceCell.Probe], touching box: BoundingBox, _ body: (Entry) throws -> Bool) throws {
        guard let fileID = try database.scalarInt("SELECT id FROM files WHERE name = ?", [.text(file)]) else { return }
        let columns = "offset, length, source_id, key, west, south, east, north, level, start"
        let exact = try database.prepare("SELECT \(columns) FROM features WHERE file = ? AND start = ? AND level = ?")
        let range = try database.prepare("SELECT \(columns) FROM features WHERE file = ? AND start BETWEEN ? AND ? AND level >= ?")
        var found: [Entry] = []
        for probe in probes {
            let s: SQLiteStatement
            switch probe {
            case .cell(let c):
                s = exact
                try s.bind([.int(fileID), .int(c.start), .int(Int64(c.level))])
            case .range(let from, let to, let minLevel):
                s = range
                try s.bind([.int(fileID), .int(from), .int(to), .int(Int64(minLevel))])
            }
            while try s.step() {
                let e = Self.entry(s)
                if let b = e.bbox, b.intersects(box) { found.append(e) }
            }
        }
        found.sort { $0.offset < $1.offset }
        for e in found { guard try body(e) else { return } }
    }

    /// The features whose GeoJSON `id` (compact JSON) is one of `keys`.
    public func entries(withKeys keys: some Collection<String>) throws(StorageError) -> [Hit] {
        let s = try database.prepare("""
            SELECT f.offset, f.length, f.source_id, f.key, f.west, f.south, f.east, f.north, f.level, f.start, files.name
            FROM features f JOIN files ON files.id = f.file WHERE f.key = ? ORDER BY files.name, f.offset
            """)
        var out: [Hit] = []
        for key in keys {
            try s.bind([.text(key)])
            while try s.step() { out.append(Hit(file: s.text(10) ?? "", entry: Self.entry(s))) }
        }
        return out
    }

    /// Features indexed, and the largest `tiledrop_id` among them.
    public func summary() throws(StorageError) -> (features: Int, maxSourceID: Int64?) {
        let features = try database.scalarInt("SELECT coalesce(sum(features), 0) FROM files") ?? 0
        let maxID = try database.scalarInt("SELECT max(max_source_id) FROM files")
        return (Int(features), maxID)
    }

    private static func entry(_ s: SQLiteStatement) -> Entry {
        let bbox = s.isNull(4) ? nil : BoundingBox(west: s.double(4), south: s.double(5), east: s.double(6), north: s.double(7))
        let cell = s.isNull(8) ? nil : SourceCell(level: Int(s.int(8)), start: s.int(9))
        return Entry(offset: s.int(0), length: Int(s.int(1)), sourceID: s.isNull(2) ? nil : s.int(2), key: s.text(3), bbox: bbox, cell: cell)
    }

    private static func value(_ d: Double?) -> SQLiteValue { d.map(SQLiteValue.double) ?? .null }
}
