import API
import Foundation
import GeoModel
import Storage
import SystemSupport
import Tiling

/// MTS (seeds/001): sources are maps, tilesets are `tiles/<id>.mbtiles` + `recipes/<id>.json`
/// + a `tilesets` row with the information MTS keeps (name, description, attribution, private).
extension ServiceDesk: MTSBackend {
    func sources() throws -> [SourceSummary] {
        let maps = try self.maps()
        var result: [SourceSummary] = []
        for map in maps {
            let files = try database { db throws(StorageError) in try db.sourceFiles(map: map.id) }
            guard !files.isEmpty else { continue }
            let size = files.reduce(Int64(0)) { $0 + ((try? fileSystem.status($1))??.size ?? 0) }
            result.append(SourceSummary(map: map.id, files: files.count, size: size, features: indexer.featureCount(map: map.id, files: files)))
        }
        return result
    }

    func deleteSource(map: String) throws -> Bool {
        let files = try database { db throws(StorageError) in try db.detachAllSources(map: map) }
        guard !files.isEmpty else { return false }
        // MTS: "any in-progress jobs that use that tileset source will fail" — deleted now,
        // so the start-up sweep never finds unreferenced files of a deleted source.
        for file in files { try fileSystem.remove(file) }
        SourceIndexer(paths: paths, store: store, logger: logger).remove(map: map)
        try fileSystem.syncDirectory(paths.sourceFolder(map: map))
        logger.info("map \(map): source deleted through the API (\(files.count) files)")
        return true
    }

    func tilesets() throws -> [TilesetSummary] {
        var names = Set<String>()
        for name in (try? fileSystem.list(config.tilesDir)) ?? [] where name.hasSuffix(".mbtiles") && !name.hasPrefix(".") {
            names.insert(String(name.dropLast(8)))
        }
        for name in (try? fileSystem.list(config.recipesDir)) ?? [] where name.hasSuffix(".json") && !name.hasPrefix(".") {
            names.insert(String(name.dropLast(5)))
        }
        let now = epochMilliseconds()
        let records = try database { db throws(StorageError) -> [TilesetRecord] in
            // Tilesets from drop folders, recipes/ and tiles/ are public (issue 10); the row
            // gives them a stable UUID and a place for their information.
            for name in names.sorted() where DropNames.isValidMapName(name) {
                try db.ensureTileset(TilesetRecord(id: name, name: name, isPrivate: false, created: now, modified: now))
            }
            return try db.tilesets()
        }
        return records.map(summary)
    }

    /// What the tileset's MBTiles file adds to its record: size, center, modification time.
    private func summary(_ record: TilesetRecord) -> TilesetSummary {
        var record = record
        let path = paths.tileset(record.id)
        guard let status = try? fileSystem.status(path) else { return TilesetSummary(record: record, filesize: 0, center: nil) }
        record.modified = max(record.modified, status.modified / 1_000_000)
        let center = (try? MBTilesReader(path: path).metadata()["center"])??
            .split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return TilesetSummary(record: record, filesize: status.size, center: center?.count == 3 ? center : nil)
    }

    func createTileset(_ record: TilesetRecord, recipe: JSONValue) throws {
        try checkName(record.id, what: "tileset")
        let exists = try database { db throws(StorageError) in try db.tileset(id: record.id) } != nil
        let recipeFile = try fileSystem.status(paths.recipe(record.id))
        let tilesFile = try fileSystem.status(paths.tileset(record.id))
        if exists || recipeFile != nil || tilesFile != nil {
            throw ServiceError.conflict("tileset \(owner).\(record.id) already exists")
        }
        try fileSystem.createDirectories(config.recipesDir)
        try writeRecipe(recipe, tileset: record.id)
        try database { db throws(StorageError) in
            let stored = try db.ensureTileset(record)
            var updated = record
            updated.uuid = stored.uuid
            try db.saveTileset(updated)
        }
        logger.info("tileset \(record.id): created through the API (recipes/\(record.id).json)")
    }

    func updateTileset(_ record: TilesetRecord) throws {
        try database { db throws(StorageError) in try db.saveTileset(record) }
    }

    func deleteTileset(_ id: String) throws -> Bool {
        try checkName(id, what: "tileset")
        var found = try database { db throws(StorageError) -> Bool in
            let had = try db.tileset(id: id) != nil
            try db.deleteTileset(id: id)
            return had
        }
        for path in [paths.recipe(id), paths.tileset(id), paths.tileset(id, format: .pmtiles)] where (try fileSystem.status(path)) != nil {
            try fileSystem.remove(path)
            found = true
        }
        if found { logger.info("tileset \(id): deleted through the API") }
        return found
    }

    func recipe(tileset: String) throws -> JSONValue? {
        try checkName(tileset, what: "tileset")
        if (try fileSystem.status(paths.recipe(tileset))) != nil {
            return try JSONParser.parse(try fileSystem.readRegularFile(paths.recipe(tileset), maxBytes: 1 << 20))
        }
        let isMap = try maps().contains { $0.id == tileset }
        let tilesFile = try fileSystem.status(paths.tileset(tileset))
        guard isMap || tilesFile != nil else { return nil }
        return Recipe.defaultRecipe(map: tileset, maxzoom: config.defaultMaxzoom).json
    }

    func replaceRecipe(tileset: String, recipe: JSONValue) throws {
        try checkName(tileset, what: "tileset")
        try fileSystem.createDirectories(config.recipesDir)
        try writeRecipe(recipe, tileset: tileset)
        try database { db throws(StorageError) in
            if var t = try db.tileset(id: tileset) {
                t.modified = epochMilliseconds()
                try db.saveTileset(t)
            }
        }
    }

    private func writeRecipe(_ recipe: JSONValue, tileset: String) throws {
        var w = JSONWriter()
        w.write(recipe)
        w.bytes.append(0x0A)
        try fileSystem.writeAtomically(paths.recipe(tileset), bytes: w.bytes)
    }

    func sourceProblems(recipe: JSONValue) -> [String] {
        guard let parsed = try? Recipe(json: recipe) else { return [] }
        var problems: [String] = []
        for layer in parsed.layers {
            guard let map = TilesetSourceURI.map(from: layer.source) else {
                problems.append("layer \(layer.name): source '\(layer.source)' is not a tileset source; use mapbox://tileset-source/\(owner)/<id>")
                continue
            }
            let files = (try? database { db throws(StorageError) in try db.sourceFiles(map: map) }) ?? []
            if files.isEmpty {
                problems.append("layer \(layer.name): tileset source \(layer.source) does not exist or holds no data; upload it first (tilesets upload-source \(owner) \(map) FILE)")
            }
        }
        return problems
    }

    func publish(tileset: String) throws -> String {
        guard let json = try recipe(tileset: tileset) else { throw unknownTileset(tileset) }
        let problems = sourceProblems(recipe: json)
        guard problems.isEmpty else { throw ServiceError.invalid(problems.joined(separator: "; ")) }
        switch publisher.republish(tileset) {
        case .queued(let id): return id
        case .unknownTileset: throw unknownTileset(tileset)
        case .failed: throw ServiceError.unavailable("the publish job for \(owner).\(tileset) could not be recorded; the daemon's log says why")
        }
    }

    private func unknownTileset(_ tileset: String) -> ServiceError {
        .notFound("no tileset \(tileset) (\(owner).\(tileset)): there is no recipes/\(tileset).json and no map \(tileset); see GET /v1/maps and GET /tilesets/v1/\(owner)")
    }

    func jobs(tileset: String, stage: JobStage?, limit: Int) throws -> [PublishJobRecord] {
        try database { db throws(StorageError) in try db.jobs(tileset: tileset, stage: stage, limit: limit) }
    }

    func job(id: String) throws -> PublishJobRecord? {
        try database { db throws(StorageError) in try db.job(id: id) }
    }

    func queuedJobCount() throws -> Int {
        try database { db throws(StorageError) in try db.queuedJobCount() }
    }
}
