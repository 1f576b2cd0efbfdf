import Formats
import GeoModel
import Storage

/// Resolves `tiledrop://tileset-source/<map>` against a daemon root for one-shot commands
/// (`tiledrop publish --root DIR`): the map's committed source files, as `state.db` lists
/// them, never a half-written or orphaned file that happens to sit in the folder.
public struct RootSources {
    public let root: String

    public init(root: String) { self.root = root }

    public func source(for uri: String) throws -> any FeatureSource {
        guard let map = TilesetSourceURI.map(from: uri) else {
            throw DaemonError.other("'\(uri)' is not a tileset source; use tiledrop://tileset-source/<map> or a file path")
        }
        let config = DaemonConfig(root: root)
        let files = try StateDatabase(path: config.statePath, readOnly: true, root: root).sourceFiles(map: map)
        guard !files.isEmpty else {
            throw DaemonError.other("map \(map) has no committed source files under \(root); drop a file into \(config.dropDir)/\(map)/ first")
        }
        return GeoJSONSeqSource(paths: files)
    }
}
