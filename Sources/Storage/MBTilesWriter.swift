import CSQLite
import GeoModel
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// Writes an MBTiles 1.3 file atomically: a temporary file in the target directory is
/// filled, checked, fsynced and renamed over the target, so readers never see a half file.
///
/// Schema (MBTiles 1.3 allows any schema behind a `tiles` view): identical tiles are stored
/// once in `images` and referenced from `map` (a WITHOUT ROWID table keyed by z/x/y), as
/// planetiler and tippecanoe do. `images.tile_id` is assigned in write order, so the big
/// table only ever grows at its end; identical tiles are found through a 64-bit content hash
/// in a temporary table (`image_hash`, in SQLite's temp database, not in the file; hash
/// collisions are detected by comparing the bytes and probed past). Keying `images` by the
/// hash itself scattered every insert over the whole file: with a 2 MB page cache, a third of
/// the publish of the 144,563 cities at z0–12 went to SQLite re-reading and re-writing pages. `PRAGMA application_id` is 0x4d504258 ("MPBX", §Database).
/// Rows use the TMS scheme (`TileID.tmsRow`). Tile data is stored as given (the tiler
/// hands over gzip-compressed MVT).
public final class MBTilesWriter: TileSink {
    public static let applicationID: Int32 = 0x4d50_4258

    public let path: String
    let temporaryPath: String
    private(set) var db: SQLiteDatabase?
    private let insertMap: SQLiteStatement
    private let insertImage: SQLiteStatement
    private let selectImage: SQLiteStatement
    private let selectHash: SQLiteStatement
    private let insertHash: SQLiteStatement
    public private(set) var tilesWritten = 0
    public private(set) var uniqueTiles = 0

    /// Creates the temporary file next to `path`; nothing appears at `path` until `finish`.
    public init(path: String) throws(StorageError) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = "\(dir)/.\(base).\(getpid()).tmp"
        // Created here without following a link, then opened by SQLite with NOFOLLOW.
        do {
            close(try FileSystem().createFile(temporaryPath, mode: 0o644, replacingStale: true))
        } catch {
            throw .io(path: temporaryPath, operation: "create", errno: error.errno)
        }
        let db = try SQLiteDatabase(path: temporaryPath, followSymlinks: false)
        self.db = db
        do {
            try db.execute("""
                PRAGMA application_id = \(MBTilesWriter.applicationID);
                PRAGMA journal_mode = OFF;
                PRAGMA synchronous = OFF;
                PRAGMA page_size = 4096;
                CREATE TABLE metadata (name TEXT NOT NULL, value TEXT);
                CREATE UNIQUE INDEX metadata_name ON metadata (name);
                CREATE TABLE map (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL,
                                  tile_id INTEGER NOT NULL, PRIMARY KEY (zoom_level, tile_column, tile_row)) WITHOUT ROWID;
                CREATE TABLE images (tile_id INTEGER PRIMARY KEY, tile_data BLOB NOT NULL);
                CREATE VIEW tiles AS
                    SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column,
                           map.tile_row AS tile_row, images.tile_data AS tile_data
                    FROM map JOIN images ON images.tile_id = map.tile_id;
                PRAGMA temp.cache_size = -16000;
                CREATE TEMP TABLE image_hash (hash INTEGER PRIMARY KEY, tile_id INTEGER NOT NULL);
                BEGIN;
                """)
            insertMap = try db.prepare("INSERT OR REPLACE INTO map (zoom_level, tile_column, tile_row, tile_id) VALUES (?, ?, ?, ?)")
            insertImage = try db.prepare("INSERT INTO images (tile_data) VALUES (?)")
            selectImage = try db.prepare("SELECT tile_data FROM images WHERE tile_id = ?")
            selectHash = try db.prepare("SELECT tile_id FROM image_hash WHERE hash = ?")
            insertHash = try db.prepare("INSERT INTO image_hash (hash, tile_id) VALUES (?, ?)")
        } catch {
            self.db = nil
            unlink(temporaryPath)
            throw error
        }
    }

    deinit {
        if db != nil { abort() }
    }

    /// Stores one tile (`TileSink`); identical data is stored once.
    public func writeTile(_ id: TileID, data: [UInt8]) throws {
        try write(id, data: data)
    }

    public func write(_ id: TileID, data: [UInt8]) throws(StorageError) {
        guard let db else { throw .invalid(path: path, reason: "MBTiles writer already finished or aborted") }
        var hash = MBTilesWriter.contentKey(data)
        var tileID: Int64
        while true {
            try selectHash.bind([.int(hash)])
            let known = try selectHash.step() ? selectHash.int(0) : nil
            try selectHash.bind([])
            guard let known else {
                try insertImage.run([.blob(data)])
                tileID = db.lastInsertRowID
                try insertHash.run([.int(hash), .int(tileID)])
                uniqueTiles += 1
                break
            }
            // The hash is known: the same tile (dedupe), or, very rarely, a hash collision.
            try selectImage.bind([.int(known)])
            let same = try selectImage.step() && selectImage.blob(0) == data
            try selectImage.bind([])
            tileID = known
            if same { break }
            hash &+= 1
        }
        try insertMap.run([.int(Int64(id.z)), .int(Int64(id.x)), .int(Int64(id.tmsRow)), .int(tileID)])
        tilesWritten += 1
    }

    /// Commits `metadata` (name → value), checks the file, fsyncs it and renames it into place.
    public func finish(metadata: [(name: String, value: String)]) throws(StorageError) {
        guard let db else { throw .invalid(path: path, reason: "MBTiles writer already finished or aborted") }
        do {
            let insert = try db.prepare("INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)")
            for (n, v) in metadata { try insert.run([.text(n), .text(v)]) }
            try db.execute("COMMIT")
            let problems = try MBTilesReader.problems(in: db, path: temporaryPath, expectedTiles: tilesWritten)
            if !problems.isEmpty { throw StorageError.invalid(path: temporaryPath, reason: "self-check failed: " + problems.joined(separator: "; ")) }
            self.db = nil
        } catch let error as StorageError {
            abort()
            throw error
        } catch {
            abort()
            throw .invalid(path: temporaryPath, reason: "\(error)")
        }
        let fileSystem = FileSystem()
        do {
            let fd = try fileSystem.openRegularFileForReading(temporaryPath)
            defer { close(fd) }
            try FileSystem.sync(fd, target: temporaryPath)
            try fileSystem.rename(temporaryPath, to: path)
        } catch {
            unlink(temporaryPath)
            throw .io(path: path, operation: "\(error.call) (from \(temporaryPath))", errno: error.errno)
        }
        do {
            try fileSystem.syncDirectory(FileSystem.parent(of: path))
        } catch {
            throw .io(path: error.target, operation: "fsync", errno: error.errno)
        }
    }

    /// Discards the temporary file.
    public func abort() {
        db = nil
        unlink(temporaryPath)
    }

    /// A 64-bit content key (FNV-1a over the bytes, mixed with the length).
    static func contentKey(_ data: [UInt8]) -> Int64 {
        var h: UInt64 = 0xcbf29ce484222325
        data.withUnsafeBufferPointer { for byte in $0 { h = (h ^ UInt64(byte)) &* 0x100000001b3 } }
        h ^= UInt64(data.count) &* 0x9E37_79B9_7F4A_7C15
        return Int64(bitPattern: h)
    }
}
