/// The recipe `source` that names a map's tileset source: `tiledrop://tileset-source/<map>`
/// (MTS recipes say `mapbox://tileset-source/<user>/<id>`; ours has no user part).
enum TilesetSourceURI {
    static let prefix = "tiledrop://tileset-source/"

    static func uri(map: String) -> String { prefix + map }

    /// The map a source URI names, or nil when `source` is not such a URI.
    static func map(from source: String) -> String? {
        guard source.hasPrefix(prefix) else { return nil }
        let map = String(source.dropFirst(prefix.count))
        return DropNames.isValidMapName(map) ? map : nil
    }
}
