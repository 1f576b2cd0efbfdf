/// Decides whether an MBTiles file's schema is safe to query.
///
/// A dropped file chooses its own schema, and a `tiles` view can be anything — a recursive
/// CTE that never ends, a view over itself. MBTiles 1.3 only requires `tiles` to answer the
/// four columns, so we accept exactly the two layouts writers use: `tiles` (and `metadata`)
/// as plain tables, or `tiles` as the deduplicating view over two plain tables that mbutil,
/// tippecanoe, planetiler and our `MBTilesWriter` create:
///
///     CREATE VIEW tiles AS SELECT m.zoom_level AS zoom_level, m.tile_column AS tile_column,
///         m.tile_row AS tile_row, i.tile_data AS tile_data FROM m JOIN i ON i.id = m.id
///
/// (any table names and join column; `INNER JOIN`, either side of `=`, quoting and case free;
/// further `AND m.c = i.c` equalities between the two tables, as tippecanoe 2.x writes).
enum MBTilesSchema {
    /// A reason the schema is refused, or nil when it is one of the accepted layouts.
    static func problem(in db: SQLiteDatabase) throws(StorageError) -> String? {
        let rows = try db.prepare("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view')")
        var objects: [String: (type: String, sql: String)] = [:]
        while try rows.step() {
            guard let name = rows.text(1) else { continue }
            objects[name.lowercased()] = (rows.text(0) ?? "", rows.text(2) ?? "")
        }
        func isPlainTable(_ name: String) -> Bool {
            guard let o = objects[name.lowercased()], o.type == "table" else { return false }
            return !tokens(o.sql).starts(with: ["create", "virtual"])
        }
        if let metadata = objects["metadata"], !isPlainTable("metadata") {
            return "metadata is a \(metadata.type == "view" ? "view" : "virtual table"); MBTiles metadata must be a plain table"
        }
        guard let tiles = objects["tiles"] else { return nil }  // validate() reports the missing table
        if isPlainTable("tiles") { return nil }
        guard tiles.type == "view" else { return "tiles is a virtual table; MBTiles tiles must be a plain table or the standard map/images view" }
        guard let (map, images) = standardViewTables(tokens(tiles.sql)) else {
            return "the tiles view is not the standard map/images view (a view can run any query, so only that one is accepted); re-export the tileset with tippecanoe, planetiler or `tiledrop publish`"
        }
        for table in [map, images] where !isPlainTable(table) {
            return "the tiles view reads \(table), which is not a plain table; re-export the tileset with a standard MBTiles writer"
        }
        return nil
    }

    /// The two tables of a standard `tiles` view (the one holding the addresses first), or nil.
    static func standardViewTables(_ t: [String]) -> (String, String)? {
        var i = 0
        func take(_ expected: String...) -> Bool {
            guard t.count - i >= expected.count, Array(t[i..<(i + expected.count)]) == expected else { return false }
            i += expected.count
            return true
        }
        func name() -> String? {
            guard i < t.count, let first = t[i].unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return nil }
            i += 1
            return t[i - 1]
        }
        /// `table.column AS column`
        func column(_ column: String) -> String? {
            guard let table = name(), take(".", column, "as", column) else { return nil }
            return table
        }
        guard take("create", "view"), take("if", "not", "exists") || true, take("tiles", "as", "select"),
              let map = column("zoom_level"), take(","), column("tile_column") == map, take(","),
              column("tile_row") == map, take(","), let images = column("tile_data"), images != map,
              take("from", map), take("join") || take("inner", "join"), take(images, "on"),
              let a = name(), take("."), let ac = name(), take("="), let b = name(), take("."), let bc = name(),
              Set([a, b]) == Set([map, images]), ac == bc
        else { return nil }
        // tippecanoe 2.x deduplicates per zoom and joins on the zoom as well:
        // `… ON images.tile_id = map.tile_id AND images.zoom_level = map.zoom_level`.
        while take("and") {
            guard let c = name(), take("."), let cc = name(), take("="), let d = name(), take("."), let dc = name(),
                  Set([c, d]) == Set([map, images]), cc == dc
            else { return nil }
        }
        _ = take(";")
        return i == t.count ? (map, images) : nil
    }

    /// Lower-cased SQL tokens: identifiers (quotes removed) and single punctuation characters.
    static func tokens(_ sql: String) -> [String] {
        var out: [String] = []
        var word = ""
        var quote: Character?
        func flush() {
            if !word.isEmpty { out.append(word.lowercased()) }
            word = ""
        }
        for c in sql {
            if let q = quote {
                if c == q { quote = nil; flush() } else { word.append(c) }
            } else if c == "\"" || c == "`" || c == "[" {
                flush()
                quote = c == "[" ? "]" : c
            } else if c.isLetter || c.isNumber || c == "_" {
                word.append(c)
            } else {
                flush()
                if !c.isWhitespace { out.append(String(c)) }
            }
        }
        flush()
        return out
    }
}
