import API
import Foundation
import Storage
import SystemSupport

/// The daemon side of CARTO's Maps API: layer groups and named map templates in `state.db`,
/// written through the one `StateStore` connection.
extension ServiceDesk: CartoBackend {
    var layerGroupTTLSeconds: Double { config.cartoLayerGroupTTL }

    /// The oldest `last_used` (epoch ms) a live layer group may have.
    private var layerGroupCutoff: Int64 { epochMilliseconds() - Int64(config.cartoLayerGroupTTL * 1000) }

    func saveLayerGroup(_ record: LayerGroupRecord) throws {
        let cutoff = layerGroupCutoff
        let pruned = try database { db throws(StorageError) in
            try db.transaction { () throws(StorageError) in
                let n = try db.pruneLayerGroups(unusedSince: cutoff)
                try db.saveLayerGroup(record)
                return n
            }
        }
        if pruned > 0 { logger.info("CARTO: \(pruned) layer group(s) unused for \(Int(config.cartoLayerGroupTTL)) s expired") }
    }

    func layerGroup(id: String) throws -> LayerGroupRecord? {
        let cutoff = layerGroupCutoff
        return try database { db throws(StorageError) in try db.layerGroup(id: id) }.flatMap { $0.lastUsed >= cutoff ? $0 : nil }
    }

    func touchLayerGroup(id: String, now: Int64) throws {
        try database { db throws(StorageError) in try db.touchLayerGroup(id: id, now: now) }
    }

    func namedMaps() throws -> [NamedMapRecord] {
        try database { db throws(StorageError) in try db.namedMaps() }
    }

    func namedMap(name: String) throws -> NamedMapRecord? {
        try database { db throws(StorageError) in try db.namedMap(name: name) }
    }

    func insertNamedMap(_ record: NamedMapRecord) throws -> Bool {
        try database { db throws(StorageError) in try db.insertNamedMap(record) }
    }

    func updateNamedMap(name: String, template: String, now: Int64) throws -> Bool {
        try database { db throws(StorageError) in try db.updateNamedMap(name: name, template: template, now: now) }
    }

    func deleteNamedMap(name: String) throws -> Bool {
        try database { db throws(StorageError) in try db.deleteNamedMap(name: name) }
    }

    /// A published tileset of that name, else the map of that id or title (its tileset is
    /// named after the map's id, as the default recipe publishes it).
    func tileset(named name: String) throws -> String? {
        guard !name.isEmpty, name.utf8.count <= 256, !name.hasPrefix("."), !name.contains("/"), !name.contains("\0") else { return nil }
        if try fileSystem.status(config.tilesDir + "/" + name + ".mbtiles")?.kind == .regular { return name }
        let maps = try database { db throws(StorageError) in try db.maps() }
        return maps.first { $0.id == name || $0.title == name }?.id
    }
}
