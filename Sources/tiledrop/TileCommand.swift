import Foundation
import GeoModel
import Storage
import Tiling

/// `tiledrop tile FILE Z/X/Y`: prints one tile of an MBTiles or PMTiles file (recognised by
/// its content) as a GeoJSON FeatureCollection.
enum TileCommand {
    static let usage = "usage: tiledrop " + CommandHelp.tile.synopsis

    static func run(arguments: [String]) -> Int32 {
        guard arguments.count == 2 else { return fail("tile: \(usage)", code: ExitCode.usage) }
        guard let id = TileID(path: arguments[1]) else {
            return fail("tile: \"\(arguments[1])\" is not a tile address; expected Z/X/Y with 0 <= X, Y < 2^Z", code: ExitCode.usage)
        }
        do {
            let reader = try TileArchiveFormat.open(path: arguments[0])
            guard let stored = try reader.tile(id) else {
                return fail("tile: \(arguments[0]) has no tile \(id)", code: ExitCode.noInput)
            }
            let raw = Gzip.isGzip(stored) ? try Gzip.decompress(stored) : stored
            let tile = try MVTTile(decoding: raw)
            print(JSONWriter.string(MVTGeoJSON.featureCollection(tile, id: id)))
            for issue in tile.issues { _ = fail("tile: warning: \(issue)", code: ExitCode.ok) }
            return ExitCode.ok
        } catch let e as StorageError {
            return fail("tile: \(e)", code: ExitCode.noInput)
        } catch {
            return fail("tile: \(arguments[0]) \(id): \(error)", code: ExitCode.dataError)
        }
    }
}
