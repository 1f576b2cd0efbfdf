import Daemon
import Rendering
import SystemSupport

/// `tiledrop render TILESET.mbtiles|TILESET Z/X/Y[@2x].FORMAT -o FILE [--root DIR]`: one raster tile.
///
/// A bare tileset name is looked up in the root's `tiles/` folder (`--root`, or the
/// configuration's root); a path ending in `.mbtiles` is used as it is.
enum RenderCommand {
    static let usage = "usage: tiledrop " + CommandHelp.render.synopsis

    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, .render) else { return ExitCode.usage }
        guard args.positional.count == 2, let output = args.value("-o") ?? args.value("--output") else {
            return fail("render: \(usage)", code: ExitCode.usage)
        }
        let address: RasterTileAddress
        do {
            address = try RasterTileAddress(parsing: args.positional[1])
        } catch {
            return fail("render: \(args.positional[1]): \(error)", code: ExitCode.usage)
        }
        guard let path = tilesetPath(args.positional[0], args: args, command: "render") else { return ExitCode.config }
        do {
            let rasterizer = try TilesetRasterizer(path: path)
            guard let canvas = try rasterizer.render(address.tile, pixelRatio: address.pixelRatio) else {
                return fail("render: \(path) starts at zoom \(rasterizer.minzoom); tile \(address.tile) is below it", code: ExitCode.noInput)
            }
            try FileSystem().writeAtomically(output, bytes: address.format.encode(canvas))
            return ExitCode.ok
        } catch let e as SystemError {
            return fail("render: cannot write \(output): \(e)", code: ExitCode.cantCreate)
        } catch {
            return fail("render: \(error)", code: ExitCode.noInput)
        }
    }
}

/// The MBTiles file a command names: a path to a `.mbtiles` file as given, or a tileset name
/// in the root's `tiles/` folder; nil after printing why the configuration is unusable.
func tilesetPath(_ name: String, args: Arguments, command: String) -> String? {
    if name.hasSuffix(".mbtiles") || name.contains("/") { return name }
    guard let config = loadConfiguration(args, command: command) else { return nil }
    return config.tilesDir + "/" + name + ".mbtiles"
}
