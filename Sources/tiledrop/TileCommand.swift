import Foundation
import GeoModel
import Storage
import Tiling

/// `tiledrop tile FILE.mbtiles Z/X/Y`: prints one tile as a GeoJSON FeatureCollection.
enum TileCommand {
    static let usage = "usage: tiledrop tile FILE.mbtiles Z/X/Y"

    static func run(arguments: [String]) -> Int32 {
        guard arguments.count == 2 else { return CommandLine.fail("tile: \(usage)", code: 64) }
        guard let id = TileID(path: arguments[1]) else {
            return CommandLine.fail("tile: \"\(arguments[1])\" is not a tile address; expected Z/X/Y with 0 <= X, Y < 2^Z", code: 64)
        }
        do {
            let reader = try MBTilesReader(path: arguments[0])
            guard let stored = try reader.tile(id) else {
                return CommandLine.fail("tile: \(arguments[0]) has no tile \(id)", code: 66)
            }
            let raw = Gzip.isGzip(stored) ? try Gzip.decompress(stored) : stored
            let tile = try MVTTile(decoding: raw)
            print(JSONWriter.string(MVTGeoJSON.featureCollection(tile, id: id)))
            for issue in tile.issues { _ = CommandLine.fail("tile: warning: \(issue)", code: 0) }
            return 0
        } catch let e as StorageError {
            return CommandLine.fail("tile: \(e)", code: 66)
        } catch {
            return CommandLine.fail("tile: \(arguments[0]) \(id): \(error)", code: 65)
        }
    }
}
