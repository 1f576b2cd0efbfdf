import Daemon
import Storage
import Tiling

/// `tiledrop convert-tiles IN OUT`: copies a tileset between MBTiles and PMTiles.
enum ConvertTilesCommand {
    static let usage = "usage: tiledrop " + CommandHelp.convertTiles.synopsis

    static func run(arguments: [String]) -> Int32 {
        guard arguments.count == 2, !arguments.contains(where: { $0.hasPrefix("-") }) else {
            return fail("convert-tiles: \(usage)", code: ExitCode.usage)
        }
        let (input, output) = (arguments[0], arguments[1])
        guard TileArchiveFormat(path: output) != nil else {
            return fail("convert-tiles: \(output): the output must end in .mbtiles or .pmtiles (that chooses the container)", code: ExitCode.usage)
        }
        do {
            let s = try TileArchiveConverter.convert(input: input, output: output)
            print("wrote \(output): \(s.tiles) tiles (\(s.uniqueTiles) unique)" + (s.compressed > 0 ? ", \(s.compressed) uncompressed vector tiles gzip-compressed" : ""))
            return ExitCode.ok
        } catch let e as StorageError {
            if case .io(let path, _, _) = e, path == input { return fail("convert-tiles: \(e)", code: ExitCode.noInput) }
            if case .invalid(let path, _) = e, path == input { return fail("convert-tiles: \(e)", code: ExitCode.dataError) }
            return fail("convert-tiles: \(e)", code: ExitCode.ioError)
        } catch {
            return fail("convert-tiles: \(error)", code: ExitCode.dataError)
        }
    }
}
