import CSQLite
import GeoModel
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// The two tables an MBTiles written for incremental publishing carries besides the MBTiles
/// ones (readers ignore them): a record per tile layer, and named blobs of tiling state.
enum MBTilesIncrementalSchema {
    static let create = """
        CREATE TABLE IF NOT EXISTS tiledrop_tile_layers (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_y INTEGER NOT NULL,
            layer INTEGER NOT NULL, size INTEGER NOT NULL, points INTEGER NOT NULL, lines INTEGER NOT NULL, polygons INTEGER NOT NULL,
            hash INTEGER NOT NULL, required INTEGER, dropped INTEGER NOT NULL,
            PRIMARY KEY (zoom_level, tile_column, tile_y, layer)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS tiledrop_state (name TEXT PRIMARY KEY, value BLOB NOT NULL);
        """ + mapIndex
    /// Lets an update tell whether another tile still uses an image it replaced without
    /// scanning `map` (once per replaced tile, that scan made updates grow with the tileset).
    static let mapIndex = "CREATE INDEX IF NOT EXISTS tiledrop_map_tile_id ON map (tile_id);"
    static let insertRow = "INSERT OR REPLACE INTO tiledrop_tile_layers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    static func values(_ r: TileLayerRecord) -> [SQLiteValue] {
        [.int(Int64(r.tile.z)), .int(Int64(r.tile.x)), .int(Int64(r.tile.y)), .int(Int64(r.layer)), .int(Int64(r.size)), .int(Int64(r.points)),
         .int(Int64(r.lines)), .int(Int64(r.polygons)), .int(Int64(bitPattern: r.hash)), r.requiredSize.map { .int(Int64($0)) } ?? .null, .int(Int64(r.dropped))]
    }

    static func row(_ s: SQLiteStatement) -> TileLayerRecord {
        TileLayerRecord(tile: TileID(z: Int(s.int(0)), x: Int(s.int(1)), y: Int(s.int(2))), layer: Int(s.int(3)), size: Int(s.int(4)),
                     points: Int(s.int(5)), lines: Int(s.int(6)), polygons: Int(s.int(7)), hash: UInt64(bitPattern: s.int(8)),
                     requiredSize: s.isNull(9) ? nil : Int(s.int(9)), dropped: Int(s.int(10)))
    }
}

extension MBTilesWriter {
    /// Stores the tile layer records and state blobs an incremental publish starts from; call
    /// before `finish`, so they are committed with the tiles.
    public func writeIncrementalState(rows: [TileLayerRecord], state: [String: [UInt8]]) throws(StorageError) {
        guard let db else { throw .invalid(path: path, reason: "MBTiles writer already finished or aborted") }
        try db.execute(MBTilesIncrementalSchema.create)
        let insert = try db.prepare(MBTilesIncrementalSchema.insertRow)
        for r in rows { try insert.run(MBTilesIncrementalSchema.values(r)) }
        let put = try db.prepare("INSERT OR REPLACE INTO tiledrop_state (name, value) VALUES (?, ?)")
        for (name, value) in state.sorted(by: { $0.key < $1.key }) { try put.run([.text(name), .blob(value)]) }
    }
}

/// Updates a published MBTiles in place, in one SQLite transaction (rollback journal): a
/// reader sees the old tileset or the new one, never a mix, and a crash (even `kill -9`)
/// mid-update leaves the old one, which the next writer or reader rolls back to.
///
/// Only files `MBTilesWriter` wrote with `writeIncrementalState` can be updated: they have
/// the `map`/`images` layout and the `tiledrop_*` tables.
public final class MBTilesUpdater {
    public let path: String
    private let db: SQLiteDatabase
    private let tileQuery: SQLiteStatement
    private let rowQuery: SQLiteStatement
    private var inTransaction = false

    /// Opens `path` for updating; nil when it exists but holds no incremental state (then a
    /// full publish has to write it first).
    public init?(path: String) throws(StorageError) {
        self.path = path
        db = try SQLiteDatabase(path: path, create: false, followSymlinks: false)
        let tables = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('tiledrop_tile_layers', 'tiledrop_state', 'map', 'images')")
        guard tables == 4 else { return nil }
        tileQuery = try db.prepare("SELECT images.tile_data FROM map JOIN images ON images.tile_id = map.tile_id WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?")
        rowQuery = try db.prepare("SELECT * FROM tiledrop_tile_layers WHERE zoom_level = ? AND tile_column = ? AND tile_y = ? ORDER BY layer")
    }

    deinit {
        if inTransaction { try? db.execute("ROLLBACK") }
    }

    /// A named state blob, or nil.
    public func state(_ name: String) throws(StorageError) -> [UInt8]? {
        let s = try db.prepare("SELECT value FROM tiledrop_state WHERE name = ?")
        try s.bind([.text(name)])
        return try s.step() ? s.blob(0) : nil
    }

    /// The stored tile (XYZ), or nil.
    public func tile(_ id: TileID) throws(StorageError) -> [UInt8]? {
        try tileQuery.bind([.int(Int64(id.z)), .int(Int64(id.x)), .int(Int64(id.tmsRow))])
        defer { try? tileQuery.bind([]) }
        return try tileQuery.step() ? tileQuery.blob(0) : nil
    }

    /// The records of a tile's layers, by layer.
    public func rows(_ id: TileID) throws(StorageError) -> [TileLayerRecord] {
        try rowQuery.bind([.int(Int64(id.z)), .int(Int64(id.x)), .int(Int64(id.y))])
        defer { try? rowQuery.bind([]) }
        var out: [TileLayerRecord] = []
        while try rowQuery.step() { out.append(MBTilesIncrementalSchema.row(rowQuery)) }
        return out
    }

    public func tileCount() throws(StorageError) -> Int {
        Int(try db.scalarInt("SELECT count(*) FROM map") ?? 0)
    }

    /// Starts the one write transaction of an update (`BEGIN IMMEDIATE`: other writers wait).
    public func begin() throws(StorageError) {
        try db.execute("BEGIN IMMEDIATE")
        inTransaction = true
        try db.execute(MBTilesIncrementalSchema.mapIndex)  // files written before the index existed
    }

    /// Replaces (or, with empty data, removes) tiles, deleting images no tile uses any more.
    public func replaceTiles(_ tiles: [(id: TileID, data: [UInt8])]) throws(StorageError) {
        let old = try db.prepare("SELECT tile_id FROM map WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?")
        let insertImage = try db.prepare("INSERT OR IGNORE INTO images (tile_id, tile_data) VALUES (?, ?)")
        let selectImage = try db.prepare("SELECT tile_data FROM images WHERE tile_id = ?")
        let insertMap = try db.prepare("INSERT OR REPLACE INTO map (zoom_level, tile_column, tile_row, tile_id) VALUES (?, ?, ?, ?)")
        let deleteMap = try db.prepare("DELETE FROM map WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?")
        let orphan = try db.prepare("DELETE FROM images WHERE tile_id = ? AND NOT EXISTS (SELECT 1 FROM map WHERE map.tile_id = ?)")
        for (id, data) in tiles {
            let address: [SQLiteValue] = [.int(Int64(id.z)), .int(Int64(id.x)), .int(Int64(id.tmsRow))]
            try old.bind(address)
            let previous: Int64? = try old.step() ? old.int(0) : nil
            try old.bind([])
            if data.isEmpty {
                try deleteMap.run(address)
            } else {
                var key = MBTilesWriter.contentKey(data)
                while true {
                    try insertImage.run([.int(key), .blob(data)])
                    if db.changes > 0 { break }
                    try selectImage.bind([.int(key)])
                    let same = try selectImage.step() && selectImage.blob(0) == data
                    try selectImage.bind([])
                    if same { break }
                    key &+= 1
                }
                try insertMap.run(address + [.int(key)])
            }
            if let previous { try orphan.run([.int(previous), .int(previous)]) }
        }
    }

    /// Replaces every record of the given tiles with `rows`.
    public func replaceRows(of tiles: [TileID], with rows: [TileLayerRecord]) throws(StorageError) {
        let delete = try db.prepare("DELETE FROM tiledrop_tile_layers WHERE zoom_level = ? AND tile_column = ? AND tile_y = ?")
        for id in tiles { try delete.run([.int(Int64(id.z)), .int(Int64(id.x)), .int(Int64(id.y))]) }
        let insert = try db.prepare(MBTilesIncrementalSchema.insertRow)
        for r in rows { try insert.run(MBTilesIncrementalSchema.values(r)) }
    }

    /// Every record in tile order (zoom, column, row, layer).
    public func forEachRow(_ body: (TileLayerRecord) throws -> Void) throws {
        let s = try db.prepare("SELECT * FROM tiledrop_tile_layers ORDER BY zoom_level, tile_column, tile_y, layer")
        while try s.step() { try body(MBTilesIncrementalSchema.row(s)) }
    }

    public func setMetadata(_ rows: [(name: String, value: String)]) throws(StorageError) {
        let s = try db.prepare("INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)")
        for (n, v) in rows { try s.run([.text(n), .text(v)]) }
    }

    public func setState(_ name: String, _ value: [UInt8]) throws(StorageError) {
        try db.prepare("INSERT OR REPLACE INTO tiledrop_state (name, value) VALUES (?, ?)").run([.text(name), .blob(value)])
    }

    /// Commits the update (durable when this returns: `synchronous = FULL`).
    public func commit() throws(StorageError) {
        try db.execute("COMMIT")
        inTransaction = false
    }

    /// Takes the update back.
    public func rollback() {
        guard inTransaction else { return }
        try? db.execute("ROLLBACK")
        inTransaction = false
    }
}
