import CSQLite
import GeoModel

/// Reads and checks MBTiles files (MBTiles 1.3) that may come from anyone.
///
/// Returns tile data as stored (for vector tilesets: gzip-compressed MVT; decompression is
/// the Tiling module's `Gzip`). `validate()` lists everything that breaks the spec. The file
/// is opened with `SQLiteDatabase(untrustedPath:)`, and its schema must be one that cannot
/// run away (`MBTilesSchema`): `tiles` a table or the standard `map`/`images` view.
public final class MBTilesReader {
    public let path: String
    let db: SQLiteDatabase
    private let tileQuery: SQLiteStatement

    public init(path: String) throws(StorageError) {
        self.path = path
        db = try SQLiteDatabase(untrustedPath: path)
        if let problem = try MBTilesSchema.problem(in: db) {
            throw .invalid(path: path, reason: problem)
        }
        do {
            tileQuery = try db.prepare("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?")
        } catch {
            throw .invalid(path: path, reason: "not an MBTiles file: no readable tiles table or view (\(error))")
        }
    }

    /// Stops any query of this reader once `shouldStop` returns true (checked every few
    /// thousand SQLite steps); the query then throws a `StorageError` whose `isInterrupt` holds.
    public func interruptWhen(_ shouldStop: @escaping () -> Bool) {
        db.interruptWhen(shouldStop)
    }

    /// All `metadata` rows.
    public func metadata() throws(StorageError) -> [String: String] {
        let s = try db.prepare("SELECT name, value FROM metadata")
        var out: [String: String] = [:]
        while try s.step() {
            if let n = s.text(0) { out[n] = s.text(1) ?? "" }
        }
        return out
    }

    /// The stored bytes of tile `id` (XYZ addressing; converted to the TMS row), or nil.
    public func tile(_ id: TileID) throws(StorageError) -> [UInt8]? {
        try tileQuery.bind([.int(Int64(id.z)), .int(Int64(id.x)), .int(Int64(id.tmsRow))])
        // Reset once the bytes are copied: a statement left on its row keeps the read
        // transaction — and its shared lock on the file — open while the reader waits for its
        // next request, and an in-place update (`MBTilesUpdater`) could never commit.
        defer { try? tileQuery.bind([]) }
        return try tileQuery.step() ? tileQuery.blob(0) : nil
    }

    /// Number of tiles (rows of the `tiles` view).
    public func tileCount() throws(StorageError) -> Int {
        Int(try db.scalarInt("SELECT count(*) FROM tiles") ?? 0)
    }

    /// Calls `body` for every tile in (z, x, y) order.
    public func forEachTile(_ body: (TileID, [UInt8]) throws -> Void) throws {
        let s = try db.prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY zoom_level, tile_column, tile_row")
        while try s.step() {
            let z = s.int(0), x = s.int(1), row = s.int(2)
            guard (0...30).contains(z), (0..<(1 << z)).contains(x), (0..<(1 << z)).contains(row) else {
                throw StorageError.invalid(path: path, reason: "tile \(z)/\(x)/\(row) (TMS) lies outside its zoom level")
            }
            try body(TileID(z: Int(z), x: Int(x), tmsRow: Int(row)), s.blob(3))
        }
    }

    /// Everything that violates MBTiles 1.3 (empty when the file is valid).
    public func validate() throws(StorageError) -> [String] {
        try MBTilesReader.problems(in: db, path: path, expectedTiles: nil)
    }

    static func problems(in db: SQLiteDatabase, path: String, expectedTiles: Int?) throws(StorageError) -> [String] {
        var problems: [String] = []
        let check = try db.prepare("PRAGMA quick_check")
        if try check.step(), let r = check.text(0), r != "ok" { problems.append("SQLite quick_check: \(r)") }
        let appID = try db.scalarInt("PRAGMA application_id") ?? 0
        if appID != Int64(MBTilesWriter.applicationID) && appID != 0 {
            problems.append("application_id is \(appID), MBTiles uses 0x4d504258")
        }
        let objects = try db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        var names = Set<String>()
        while try objects.step() { if let n = objects.text(0) { names.insert(n) } }
        for required in ["metadata", "tiles"] where !names.contains(required) {
            problems.append("missing the \(required) table or view")
        }
        guard problems.isEmpty else { return problems }
        var meta: [String: String] = [:]
        let s = try db.prepare("SELECT name, value FROM metadata")
        while try s.step() { if let n = s.text(0) { meta[n] = s.text(1) ?? "" } }
        if meta["name"] == nil { problems.append("metadata has no name row (MUST)") }
        guard let format = meta["format"] else {
            problems.append("metadata has no format row (MUST)")
            return problems
        }
        if format == "pbf" {
            if meta["json"] == nil { problems.append("format is pbf but metadata has no json row with vector_layers (MUST)") }
            if let json = meta["json"] {
                do throws(JSONError) {
                    if try JSONParser.parse(json)["vector_layers"]?.arrayValue == nil { problems.append("metadata json has no vector_layers array") }
                } catch {
                    problems.append("metadata json is not valid JSON: \(error)")
                }
            }
        }
        for key in ["minzoom", "maxzoom"] {
            if let v = meta[key], Int(v) == nil { problems.append("metadata \(key) \"\(v)\" is not an integer") }
        }
        if let b = meta["bounds"] {
            let parts = b.split(separator: ",").compactMap { Double(String($0.filter { $0 != " " })) }
            if parts.count != 4 || parts[0] > parts[2] || parts[1] > parts[3] { problems.append("metadata bounds \"\(b)\" is not left,bottom,right,top") }
        }
        if names.contains("map"), names.contains("images") {
            let orphans = try db.scalarInt("SELECT count(*) FROM map LEFT JOIN images ON images.tile_id = map.tile_id WHERE images.tile_id IS NULL") ?? 0
            if orphans > 0 { problems.append("\(orphans) map rows refer to missing images") }
        }
        let count = try db.scalarInt("SELECT count(*) FROM tiles") ?? 0
        if let expectedTiles, count != Int64(expectedTiles) { problems.append("tiles view has \(count) rows, \(expectedTiles) were written") }
        if format == "pbf" {
            let bad = try db.scalarInt("SELECT count(*) FROM tiles WHERE substr(tile_data, 1, 2) != x'1f8b'") ?? 0
            if bad > 0 { problems.append("\(bad) tiles are not gzip-compressed (pbf tiles SHOULD be gzip)") }
        }
        let range = try db.scalarInt("SELECT count(*) FROM tiles WHERE zoom_level < 0 OR tile_column < 0 OR tile_row < 0 OR tile_column >= (1 << zoom_level) OR tile_row >= (1 << zoom_level)") ?? 0
        if range > 0 { problems.append("\(range) tiles have coordinates outside their zoom level") }
        return problems
    }
}
