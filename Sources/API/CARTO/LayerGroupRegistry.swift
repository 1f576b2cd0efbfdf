import Foundation
import GeoModel
import Storage

/// The layer groups being served: compiled groups kept in memory (bounded), backed by the
/// `carto_layergroups` table so they survive a restart.
///
/// Use is recorded in `state.db` at most once a minute per group (more often for a short
/// TTL), which is also when an expired group is noticed: the backend stops returning a group
/// unused for longer than `carto_layergroup_ttl`, and the registry then forgets it (404 from
/// then on).
final class LayerGroupRegistry: @unchecked Sendable {
    private let backend: any Backend
    private let carto: any CartoBackend
    private let lock = NSLock()
    private var groups: [String: (group: LayerGroup, checked: Double)] = [:]
    /// Compiled groups kept in memory; older ones are recompiled from `state.db` on demand.
    static let capacity = 256
    /// Seconds between two `last_used` updates (and expiry checks) of one group: a minute,
    /// or a quarter of the TTL when that is shorter.
    private let touchInterval: Double

    init(backend: any Backend, carto: any CartoBackend) {
        self.backend = backend
        self.carto = carto
        touchInterval = min(60, carto.layerGroupTTLSeconds / 4)
    }

    /// Compiles `config` over the current data, records the group (or refreshes it when the
    /// same config over the same data exists) and returns it.
    func instantiate(_ config: MapConfig) throws(CartoRequestError) -> LayerGroup {
        let group = try compile(config, id: nil)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            try carto.saveLayerGroup(LayerGroupRecord(id: group.id, config: JSONWriter.string(config.json), created: now, lastUsed: now))
        } catch {
            throw CartoRequestError(status: 500, "cannot record the layer group: \(error)")
        }
        remember(group)
        return group
    }

    /// The layer group `id`: from memory, or recompiled from `state.db`; 404 when unknown or expired.
    func group(id: String) throws(CartoRequestError) -> LayerGroup {
        let now = Date().timeIntervalSince1970
        let cached: (group: LayerGroup, checked: Double)? = lock.withLock { groups[id] }
        if let cached, now - cached.checked < touchInterval { return cached.group }
        guard id.utf8.count <= 128, let record = try stored(id) else {
            lock.withLock { groups[id] = nil }
            throw .notFound("Invalid or nonexistent map configuration token \(id.prefix(128))")
        }
        try? carto.touchLayerGroup(id: id, now: Int64(now * 1000))
        if let cached {
            lock.withLock { groups[id] = (cached.group, now) }
            return cached.group
        }
        let config: MapConfig
        do {
            config = try MapConfig.parse(try JSONParser.parse(record.config))
        } catch {
            throw CartoRequestError(status: 500, "the stored layer group \(id) cannot be read: \(error)")
        }
        let group = try compile(config, id: id)
        remember(group)
        return group
    }

    private func stored(_ id: String) throws(CartoRequestError) -> LayerGroupRecord? {
        do { return try carto.layerGroup(id: id) } catch {
            throw CartoRequestError(status: 500, "cannot read the layer group: \(error)")
        }
    }

    private func compile(_ config: MapConfig, id: String?) throws(CartoRequestError) -> LayerGroup {
        let carto = self.carto, backend = self.backend
        return try LayerGroup.compile(config, id: id, resolve: { try carto.tileset(named: $0) }, tilesetPath: { backend.tilesetPath($0) })
    }

    private func remember(_ group: LayerGroup) {
        let now = Date().timeIntervalSince1970
        lock.withLock {
            if groups[group.id] == nil, groups.count >= Self.capacity,
               let oldest = groups.min(by: { $0.value.checked < $1.value.checked }) {
                groups[oldest.key] = nil
            }
            groups[group.id] = (group, now)
        }
    }
}
