/// The schema of `state.db`, versioned with `PRAGMA user_version` and migrated forward on open.
///
/// A migration is either SQL or a step in Swift (for rewrites SQL cannot express, such as
/// turning the absolute paths of old rows into root-relative ones). All pending steps run in
/// one transaction, so a database is never left half-migrated.
enum StateMigrations {
    enum Step: Sendable {
        case sql(String)
        case code(@Sendable (SQLiteDatabase) throws(StorageError) -> Void)
    }

    static let steps: [Step] = [
        .sql(version1),
        // v2 (issue 8): attempt counters for poison-pill detection; paths relative to the root.
        .sql("""
            ALTER TABLE ingests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
            """),
        .code(relativizePaths),
        // v3 (issue 10): stable UUIDs for maps (MapTiler's `document_id`) and the tilesets
        // table: MTS tileset information (name, description, attribution, private).
        .sql("""
            ALTER TABLE maps ADD COLUMN uuid TEXT;
            CREATE UNIQUE INDEX maps_uuid ON maps (uuid);
            CREATE TABLE tilesets (
                id TEXT PRIMARY KEY,
                uuid TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                attribution TEXT NOT NULL DEFAULT '[]',
                private INTEGER NOT NULL DEFAULT 0,
                created INTEGER NOT NULL,
                modified INTEGER NOT NULL
            );
            """),
        .code(assignMissingUUIDs),
        // v4 (issue 14): the after_publish hook's results on each publish job.
        .sql("ALTER TABLE jobs ADD COLUMN after_publish TEXT;"),
        // v5 (issue 10): the recipe each publish job ran with (MTS job `recipe`).
        .sql("ALTER TABLE jobs ADD COLUMN recipe TEXT;"),
        // v6 (issue 15): what the publish held in memory (tiler peak, peak RSS, budget).
        .sql("ALTER TABLE jobs ADD COLUMN memory TEXT;"),
        // v7 (issue 12): CARTO layer groups (anonymous maps) and named map templates.
        .sql("""
            CREATE TABLE carto_layergroups (
                id TEXT PRIMARY KEY,
                config TEXT NOT NULL,
                created INTEGER NOT NULL,
                last_used INTEGER NOT NULL
            );
            CREATE INDEX carto_layergroups_last_used ON carto_layergroups (last_used);
            CREATE TABLE carto_named_maps (
                name TEXT PRIMARY KEY,
                template TEXT NOT NULL,
                created INTEGER NOT NULL,
                updated INTEGER NOT NULL
            );
            """),
        // v8 (issue 13): the next stable feature id (`tiledrop_id`) of each map.
        .sql("ALTER TABLE maps ADD COLUMN next_feature_id INTEGER NOT NULL DEFAULT 1;"),
        // v9 (issue 13): which source files each compacted file concatenates, with their
        // sizes, so an incremental publish sees through a compaction.
        .sql("""
            CREATE TABLE source_compactions (
                merged TEXT PRIMARY KEY,
                map TEXT NOT NULL,
                parts TEXT NOT NULL
            );
            CREATE INDEX source_compactions_map ON source_compactions (map);
            """),
    ]

    static func migrate(_ db: SQLiteDatabase) throws(StorageError) {
        let version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
        guard version < steps.count else { return }
        try db.transaction { () throws(StorageError) in
            for i in version..<steps.count {
                switch steps[i] {
                case .sql(let sql): try db.execute(sql)
                case .code(let body): try body(db)
                }
            }
            try db.execute("PRAGMA user_version = \(steps.count)")
        }
    }

    /// Rewrites the absolute (or cwd-relative) paths version 1 stored into paths relative to
    /// the root, whatever spelling of the root wrote them: everything from the last
    /// `drop/<map>/` or `sources/<map>/` on is kept. A path without such a part stays as it is.
    static func relativizePaths(_ db: SQLiteDatabase) throws(StorageError) {
        let select = try db.prepare("SELECT id, map, original_path, work_path, source_file FROM ingests")
        var rows: [(String, String, String, String, String?)] = []
        while try select.step() {
            rows.append((select.text(0) ?? "", select.text(1) ?? "", select.text(2) ?? "", select.text(3) ?? "", select.text(4)))
        }
        let update = try db.prepare("UPDATE ingests SET original_path = ?, work_path = ?, source_file = ? WHERE id = ?")
        for (id, map, original, work, source) in rows {
            try update.run([
                .text(relative(original, folder: "drop", map: map)), .text(relative(work, folder: "drop", map: map)),
                source.map { .text(relative($0, folder: "sources", map: map)) } ?? .null, .text(id),
            ])
        }
    }

    /// Gives every map recorded before UUIDs existed its own.
    static func assignMissingUUIDs(_ db: SQLiteDatabase) throws(StorageError) {
        let s = try db.prepare("SELECT id FROM maps WHERE uuid IS NULL")
        var ids: [String] = []
        while try s.step() { if let id = s.text(0) { ids.append(id) } }
        let u = try db.prepare("UPDATE maps SET uuid = ? WHERE id = ?")
        for id in ids { try u.run([.text(StateDatabase.newUUID()), .text(id)]) }
    }

    /// `…/<folder>/<map>/rest` → `<folder>/<map>/rest`.
    static func relative(_ path: String, folder: String, map: String) -> String {
        let marker = Array(("/" + folder + "/" + map + "/").utf8)
        let slashed = Array(("/" + path).utf8)
        guard slashed.count >= marker.count else { return path }
        for start in stride(from: slashed.count - marker.count, through: 0, by: -1)
        where slashed[start..<(start + marker.count)].elementsEqual(marker) {
            return String(decoding: slashed[(start + 1)...], as: UTF8.self)
        }
        return path
    }

    static let version1 = """
        CREATE TABLE ingests (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            map TEXT NOT NULL,
            group_name TEXT,
            filename TEXT NOT NULL,
            size INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('upload','processing','completed','canceled','failed')),
            progress REAL NOT NULL DEFAULT 0,
            errors TEXT NOT NULL DEFAULT '[]',
            warnings TEXT NOT NULL DEFAULT '[]',
            sha256 TEXT,
            original_path TEXT NOT NULL,
            work_path TEXT NOT NULL,
            source_file TEXT,
            feature_count INTEGER,
            mode TEXT NOT NULL DEFAULT 'append',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ingests_map_state ON ingests (map, state);
        CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            tileset TEXT NOT NULL,
            stage TEXT NOT NULL CHECK (stage IN ('queued','processing','success','failed')),
            created INTEGER NOT NULL,
            published INTEGER,
            errors TEXT NOT NULL DEFAULT '[]',
            warnings TEXT NOT NULL DEFAULT '[]',
            layer_stats TEXT
        );
        CREATE INDEX jobs_tileset_stage ON jobs (tileset, stage);
        CREATE TABLE maps (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            short_name TEXT NOT NULL,
            owner TEXT NOT NULL,
            visibility TEXT NOT NULL DEFAULT 'private',
            created_at INTEGER NOT NULL
        );
        CREATE TABLE groups (
            map TEXT NOT NULL,
            title TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (map, title)
        );
        """
}
