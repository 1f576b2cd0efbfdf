/// The CARTO tables of `state.db`: layer groups and named map templates (migration v7).
extension StateDatabase {
    // MARK: layer groups

    /// Records layer group `r`, or, when its id exists (the same config over the same data),
    /// only refreshes its `last_used`.
    public func saveLayerGroup(_ r: LayerGroupRecord) throws(StorageError) {
        try db.prepare("""
            INSERT INTO carto_layergroups (id, config, created, last_used) VALUES (?,?,?,?)
            ON CONFLICT (id) DO UPDATE SET last_used = max(last_used, excluded.last_used)
            """).run([.text(r.id), .text(r.config), .int(r.created), .int(r.lastUsed)])
    }

    public func layerGroup(id: String) throws(StorageError) -> LayerGroupRecord? {
        let s = try db.prepare("SELECT id, config, created, last_used FROM carto_layergroups WHERE id = ?")
        try s.bind([.text(id)])
        guard try s.step() else { return nil }
        return LayerGroupRecord(id: s.text(0) ?? "", config: s.text(1) ?? "", created: s.int(2), lastUsed: s.int(3))
    }

    /// Marks layer group `id` as used at `now` (epoch ms).
    public func touchLayerGroup(id: String, now: Int64) throws(StorageError) {
        try db.prepare("UPDATE carto_layergroups SET last_used = max(last_used, ?) WHERE id = ?").run([.int(now), .text(id)])
    }

    /// Deletes the layer groups unused since `cutoff` (epoch ms); returns how many.
    @discardableResult
    public func pruneLayerGroups(unusedSince cutoff: Int64) throws(StorageError) -> Int {
        try db.prepare("DELETE FROM carto_layergroups WHERE last_used < ?").run([.int(cutoff)])
        return db.changes
    }

    public func layerGroupCount() throws(StorageError) -> Int {
        Int(try db.scalarInt("SELECT count(*) FROM carto_layergroups") ?? 0)
    }

    // MARK: named maps

    /// Every named map template, by name.
    public func namedMaps() throws(StorageError) -> [NamedMapRecord] {
        try namedMaps(where: "1", [])
    }

    public func namedMap(name: String) throws(StorageError) -> NamedMapRecord? {
        try namedMaps(where: "name = ?", [.text(name)]).first
    }

    /// Stores a new template; false (and nothing changed) when the name is taken.
    public func insertNamedMap(_ r: NamedMapRecord) throws(StorageError) -> Bool {
        try db.prepare("INSERT OR IGNORE INTO carto_named_maps (name, template, created, updated) VALUES (?,?,?,?)")
            .run([.text(r.name), .text(r.template), .int(r.created), .int(r.updated)])
        return db.changes == 1
    }

    /// Replaces the template of an existing named map; false when there is none.
    public func updateNamedMap(name: String, template: String, now: Int64) throws(StorageError) -> Bool {
        try db.prepare("UPDATE carto_named_maps SET template = ?, updated = ? WHERE name = ?").run([.text(template), .int(now), .text(name)])
        return db.changes == 1
    }

    /// Deletes a named map; false when there was none.
    public func deleteNamedMap(name: String) throws(StorageError) -> Bool {
        try db.prepare("DELETE FROM carto_named_maps WHERE name = ?").run([.text(name)])
        return db.changes == 1
    }

    private func namedMaps(where clause: String, _ values: [SQLiteValue]) throws(StorageError) -> [NamedMapRecord] {
        let s = try db.prepare("SELECT name, template, created, updated FROM carto_named_maps WHERE \(clause) ORDER BY name")
        try s.bind(values)
        var result: [NamedMapRecord] = []
        while try s.step() {
            result.append(NamedMapRecord(name: s.text(0) ?? "", template: s.text(1) ?? "", created: s.int(2), updated: s.int(3)))
        }
        return result
    }
}
