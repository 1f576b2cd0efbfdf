/// The recipe `source` that names a map's tileset source: `tiledrop://tileset-source/<map>`,
/// or MTS's own form `mapbox://tileset-source/<username>/<map>` (seeds/001), so recipes written
/// for the Mapbox Tiling Service work unchanged. A source is a map: the username is the
/// account (tiledrop's configured `owner`) and does not change which map is read.
enum TilesetSourceURI {
    static let prefix = "tiledrop://tileset-source/"
    static let mapboxPrefix = "mapbox://tileset-source/"

    static func uri(map: String) -> String { prefix + map }

    /// The MTS id of a map's source: `mapbox://tileset-source/<owner>/<map>`.
    static func mapboxURI(owner: String, map: String) -> String { mapboxPrefix + owner + "/" + map }

    /// The map a source URI names, or nil when `source` is not such a URI.
    static func map(from source: String) -> String? {
        let map: String
        if source.hasPrefix(prefix) {
            map = String(source.dropFirst(prefix.count))
        } else if source.hasPrefix(mapboxPrefix) {
            let rest = source.dropFirst(mapboxPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            guard rest.count == 2, DropNames.isValidMapName(String(rest[0])) else { return nil }
            map = String(rest[1])
        } else {
            return nil
        }
        return DropNames.isValidMapName(map) ? map : nil
    }
}
