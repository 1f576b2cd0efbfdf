import GeoModel

/// A tileset's MTS information (seeds/001 "Create a tileset", "Update tileset information"):
/// what `tiles/<id>.mbtiles` and `recipes/<id>.json` do not say themselves.
///
/// `id` is the bare tileset name (the file name); the API shows it as `{owner}.{id}`.
/// `uuid` is the stable MapTiler `document_id` of the tileset.
public struct TilesetRecord: Sendable, Equatable {
    public var id: String
    public var uuid: String
    public var name: String
    public var description: String
    /// MTS `attribution`: an array of `{text, link}` objects, kept as JSON.
    public var attribution: JSONValue
    public var isPrivate: Bool
    public var created: Int64
    public var modified: Int64

    public init(id: String, uuid: String = StateDatabase.newUUID(), name: String, description: String = "",
                attribution: JSONValue = .array([]), isPrivate: Bool, created: Int64, modified: Int64) {
        self.id = id
        self.uuid = uuid
        self.name = name
        self.description = description
        self.attribution = attribution
        self.isPrivate = isPrivate
        self.created = created
        self.modified = modified
    }
}

extension StateDatabase {
    /// A random (version 4) UUID in lowercase text form (RFC 9562 §5.4).
    public static func newUUID() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { b -> String in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(b >> 4)], digits[Int(b & 0x0F)]])
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    // MARK: tilesets

    /// The recorded tilesets, by id.
    public func tilesets() throws(StorageError) -> [TilesetRecord] {
        try tilesets(where: "1 ORDER BY id", [])
    }

    public func tileset(id: String) throws(StorageError) -> TilesetRecord? {
        try tilesets(where: "id = ?", [.text(id)]).first
    }

    public func tileset(uuid: String) throws(StorageError) -> TilesetRecord? {
        try tilesets(where: "uuid = ?", [.text(uuid.lowercased())]).first
    }

    /// Records `t` unless a tileset with its id exists; returns the stored record either way.
    /// A tileset named like a map takes the map's UUID (one MapTiler document).
    @discardableResult
    public func ensureTileset(_ t: TilesetRecord) throws(StorageError) -> TilesetRecord {
        var values = tilesetValues(t)
        values.insert(.text(t.id), at: 1)
        try db.prepare("""
            INSERT OR IGNORE INTO tilesets (id, uuid, name, description, attribution, private, created, modified)
            VALUES (?, coalesce((SELECT uuid FROM maps WHERE id = ?), ?), ?,?,?,?,?,?)
            """).run(values)
        return try tileset(id: t.id) ?? t
    }

    /// Writes every field of `t` (inserting it when new).
    public func saveTileset(_ t: TilesetRecord) throws(StorageError) {
        try db.prepare("INSERT OR REPLACE INTO tilesets (id, uuid, name, description, attribution, private, created, modified) VALUES (?,?,?,?,?,?,?,?)")
            .run(tilesetValues(t))
    }

    public func deleteTileset(id: String) throws(StorageError) {
        try db.prepare("DELETE FROM tilesets WHERE id = ?").run([.text(id)])
    }

    private func tilesetValues(_ t: TilesetRecord) -> [SQLiteValue] {
        [.text(t.id), .text(t.uuid), .text(t.name), .text(t.description), .text(JSONWriter.string(t.attribution)),
         .int(t.isPrivate ? 1 : 0), .int(t.created), .int(t.modified)]
    }

    private func tilesets(where clause: String, _ values: [SQLiteValue]) throws(StorageError) -> [TilesetRecord] {
        let s = try db.prepare("SELECT id, uuid, name, description, attribution, private, created, modified FROM tilesets WHERE \(clause)")
        try s.bind(values)
        var result: [TilesetRecord] = []
        while try s.step() {
            let attribution = (try? JSONParser.parse(s.text(4) ?? "[]")) ?? .array([])
            result.append(TilesetRecord(id: s.text(0) ?? "", uuid: s.text(1) ?? "", name: s.text(2) ?? "",
                                        description: s.text(3) ?? "", attribution: attribution, isPrivate: s.int(5) != 0,
                                        created: s.int(6), modified: s.int(7)))
        }
        return result
    }

    // MARK: maps by UUID, sources

    /// The map whose MapTiler `document_id` is `uuid`.
    public func map(uuid: String) throws(StorageError) -> MapRecord? {
        try maps().first { $0.uuid == uuid.lowercased() }
    }

    /// MTS "Delete a tileset source": detaches every source file of `map`; returns the files,
    /// which the caller deletes once no publish job reads them.
    public func detachAllSources(map: String) throws(StorageError) -> [String] {
        try db.transaction { () throws(StorageError) -> [String] in
            let files = try sourceFiles(map: map)
            try db.prepare("UPDATE ingests SET source_file = NULL WHERE map = ? AND source_file IS NOT NULL").run([.text(map)])
            try db.prepare("DELETE FROM source_compactions WHERE map = ?").run([.text(map)])
            return files
        }
    }

    // MARK: jobs

    /// One publish job by id.
    public func job(id: String) throws(StorageError) -> PublishJobRecord? {
        try jobs(tileset: nil, stage: nil, id: id, limit: 1).first
    }

    /// A tileset's jobs, newest first, optionally only those at `stage`.
    public func jobs(tileset: String, stage: JobStage?, limit: Int) throws(StorageError) -> [PublishJobRecord] {
        try jobs(tileset: tileset, stage: stage, id: nil, limit: limit)
    }

    /// MTS "View the global queue": jobs waiting to run.
    public func queuedJobCount() throws(StorageError) -> Int {
        Int(try db.scalarInt("SELECT count(*) FROM jobs WHERE stage = 'queued'") ?? 0)
    }
}

extension StateDatabase {
    private func jobs(tileset: String?, stage: JobStage?, id: String?, limit: Int) throws(StorageError) -> [PublishJobRecord] {
        var clauses: [String] = []
        var values: [SQLiteValue] = []
        if let tileset { clauses.append("tileset = ?"); values.append(.text(tileset)) }
        if let stage { clauses.append("stage = ?"); values.append(.text(stage.rawValue)) }
        if let id { clauses.append("id = ?"); values.append(.text(id)) }
        let whereSQL = clauses.isEmpty ? "1" : clauses.joined(separator: " AND ")
        return try jobs(where: "\(whereSQL) ORDER BY seq DESC LIMIT \(max(1, limit))", values)
    }
}
