import Formats
import GeoModel
import Storage
import SystemSupport
import Tiling

/// Decides, for one publish job, whether the tileset can be updated in place with only the
/// features appended since its last publish (`Tiling/IncrementalTiler`), and does it.
///
/// The last publish left in the MBTiles (`tiledrop_state`) the tiling state and, per layer
/// source, the source files it read with their sizes. When those files are still the first
/// files of each source, unchanged (or concatenated by a compaction, whose lineage `state.db`
/// keeps), the bytes after them are the append. Anything else — a replace, a deleted map, a
/// recipe change, PMTiles output, a tileset without saved state — is a full rebuild, and so
/// is whatever `IncrementalTiler` refuses.
struct IncrementalPublisher {
    /// The state blob naming each layer source's files and sizes.
    static let sourcesKey = "sources"

    let config: DaemonConfig
    let fileSystem: FileSystem

    /// One source's files with their sizes, as saved with the tileset.
    typealias SourceFiles = [String: [(path: String, size: Int64)]]

    enum Outcome {
        case published(PublishReport, appended: Int, dirtyTiles: Int)
        case rebuild(String)
    }

    /// Whether `recipe` is published incrementally at all: it asks for it (`"incremental":
    /// true`), or it is a default recipe and the daemon's `incremental` setting is on.
    func wanted(_ recipe: Recipe, isDefault: Bool) -> Bool {
        recipe.incremental || (isDefault && config.incremental)
    }

    /// The files each `tiledrop://` layer source reads now, with their sizes.
    func files(of recipe: Recipe, list: (String) throws -> [String]) throws -> SourceFiles {
        var out: SourceFiles = [:]
        for layer in recipe.layers where out[layer.source] == nil {
            guard TilesetSourceURI.map(from: layer.source) != nil else { continue }
            out[layer.source] = try list(layer.source).map { path in (path, (try? fileSystem.status(path))??.size ?? -1) }
        }
        return out
    }

    /// The blob stored with a full publish so the next one can tell what was appended.
    static func encode(_ files: SourceFiles) -> [UInt8] {
        var o = JSONObject()
        for (source, list) in files.sorted(by: { $0.key < $1.key }) {
            o[source] = .array(list.map { ["path": .string($0.path), "size": .int($0.size)] })
        }
        return Array(JSONWriter.string(.object(o)).utf8)
    }

    static func decode(_ bytes: [UInt8]) -> SourceFiles? {
        guard let o = (try? JSONParser.parse(bytes))?.objectValue else { return nil }
        var out: SourceFiles = [:]
        for m in o {
            guard let list = m.value.arrayValue else { return nil }
            var files: [(path: String, size: Int64)] = []
            for item in list {
                guard let path = item["path"]?.stringValue, let size = item["size"]?.intValue else { return nil }
                files.append((path, Int64(size)))
            }
            out[m.key] = files
        }
        return out
    }

    /// Updates `output` in one transaction with the features `now` has beyond what the
    /// tileset was built from; `.rebuild` with the reason when that is not possible.
    ///
    /// `compactionParts` names the files (with sizes) a compacted source file concatenates
    /// (`StateDatabase.compactionParts`), so a compaction since the last publish is no change.
    func publish(recipe: Recipe, tileset: String, output: String, now: SourceFiles,
                 compactionParts: (String) throws -> [(path: String, size: Int64)]?) throws -> Outcome {
        guard config.outputs == [.mbtiles] else { return .rebuild("incremental publishing updates MBTiles only (outputs include pmtiles)") }
        if let why = IncrementalTiler.unsupported(recipe) { return .rebuild(why) }
        guard (try? fileSystem.status(output)) != nil, let updater = try MBTilesUpdater(path: output) else {
            return .rebuild("the tileset has no saved incremental state yet")
        }
        guard let stateBytes = try updater.state("tiling"), let sourceBytes = try updater.state(IncrementalPublisher.sourcesKey),
              let before = IncrementalPublisher.decode(sourceBytes) else { return .rebuild("the tileset has no saved incremental state yet") }
        let state: TilingState
        do { state = try TilingState(decoding: stateBytes) } catch { return .rebuild("\(error)") }
        guard Set(before.keys) == Set(now.keys) else { return .rebuild("the recipe's sources changed") }
        var appended: [String: any FeatureSource] = [:]
        for (source, old) in before {
            guard let new = try IncrementalPublisher.appendedSegments(saved: old, current: now[source] ?? [], compactionParts: compactionParts) else {
                return .rebuild("\(source) was replaced or deleted since the last publish")
            }
            if !new.isEmpty { appended[source] = GeoJSONSeqSource(segments: new) }
        }
        guard !appended.isEmpty else { return .rebuild("nothing was appended since the last publish") }
        var tiler = IncrementalTiler(recipe: recipe, state: state)
        tiler.memoryBudget = config.tilingMemory
        tiler.maxDirtyShare = config.incrementalMaxShare
        let update: IncrementalUpdate
        switch try tiler.run(appended: appended, store: UpdaterStore(updater: updater)) {
        case .rebuild(let why): return .rebuild(why)
        case .update(let u): update = u
        }
        try updater.begin()
        var stats: (layerStats: JSONValue, warnings: [String])
        do {
            try updater.replaceTiles(update.tiles)
            try updater.replaceRows(of: update.dirtyTiles, with: update.records)
            stats = try update.report { body in try updater.forEachRow(body) }
            try updater.setMetadata(Publisher.dataRows(update.metadata))
            try updater.setState("tiling", update.state.encoded)
            try updater.setState(IncrementalPublisher.sourcesKey, IncrementalPublisher.encode(now))
            try updater.commit()
        } catch {
            updater.rollback()
            throw error
        }
        let tiles = try updater.tileCount()
        let report = PublishReport(layerStats: stats.layerStats, warnings: stats.warnings, errors: [], tileCount: tiles, uniqueTileCount: tiles,
                                   featureCount: update.state.featureCount, metadata: update.metadata, recipe: update.recipe,
                                   outputPaths: [output], memory: update.memory, tilesetID: tileset, maxzoomChoices: update.maxzoomChoices)
        return .published(report, appended: update.appended, dirtyTiles: update.dirtyTiles.count)
    }
}

/// The live MBTiles as the incremental tiler's store.
private struct UpdaterStore: IncrementalTileStore {
    let updater: MBTilesUpdater
    func tile(_ id: TileID) throws -> [UInt8]? { try updater.tile(id) }
    func records(_ id: TileID) throws -> [TileLayerRecord] { try updater.rows(id) }
    func tileCount() throws -> Int { try updater.tileCount() }
}

extension IncrementalPublisher {
    /// The byte ranges of `current` that come after everything `saved` named, or nil when
    /// `saved` is not, file by file, the start of `current`.
    ///
    /// A compacted file stands for the files it concatenates: where `current` has one that
    /// `saved` does not, it is opened up into its parts (each a byte range of it), again and
    /// again for a compaction of compactions, until the names and sizes match.
    static func appendedSegments(saved: [(path: String, size: Int64)], current: [(path: String, size: Int64)],
                                 compactionParts: (String) throws -> [(path: String, size: Int64)]?) throws -> [GeoJSONSeqSource.Segment]? {
        typealias Piece = (name: String, size: Int64, file: String, offset: Int64)
        var queue: [Piece] = current.map { ($0.path, $0.size, $0.path, 0) }
        var i = 0, expansions = 0
        for s in saved {
            while true {
                guard i < queue.count else { return nil }
                let q = queue[i]
                if q.name == s.path && q.size == s.size {
                    i += 1
                    break
                }
                expansions += 1
                guard expansions <= 100_000, let parts = try compactionParts(q.name), !parts.isEmpty,
                      parts.reduce(0, { $0 + $1.size }) == q.size else { return nil }
                var offset = q.offset
                queue.replaceSubrange(i...i, with: parts.map { part in
                    defer { offset += part.size }
                    return (part.path, part.size, q.file, offset)
                })
            }
        }
        var out: [GeoJSONSeqSource.Segment] = []
        for q in queue[i...] {
            guard q.size >= 0 else { return nil }
            if let last = out.last, last.path == q.file, Int64(last.offset + (last.count ?? 0)) == q.offset {
                out[out.count - 1].count! += Int(q.size)
            } else {
                out.append(.init(path: q.file, offset: Int(q.offset), count: Int(q.size)))
            }
        }
        return out
    }
}
