#if canImport(Glibc)
import Glibc
#endif
import Daemon

/// The `tiledrop` command: dispatches to one subcommand and returns its exit code.
enum Tiledrop {
    static let version = TiledropVersion.string

    static let usage = """
    tiledrop \(version): drop KML, KMZ, GPX or GeoJSON files into a folder, get MBTiles vector tilesets.

    Usage:
      tiledrop run [--root DIR] [--config FILE]       run the daemon in the foreground (default root ./tiledrop-data)
      tiledrop status [--root DIR | --socket PATH] [--json]
                                                      ask a running daemon for its status
      tiledrop convert IN [-o OUT]                    convert a KML/KMZ/GPX/GeoJSON file to line-delimited GeoJSON
      tiledrop publish RECIPE.json -o OUT.mbtiles [--json]
                                                      tile the sources of an MTS recipe into an MBTiles file
      tiledrop validate-recipe RECIPE.json            check a recipe; prints {"valid": true} or the errors
      tiledrop tile FILE.mbtiles Z/X/Y                print one tile of an MBTiles file as GeoJSON
      tiledrop render TILESET.mbtiles|TILESET Z/X/Y[@2x].FORMAT -o FILE [--root DIR]
                                                      render a raster tile (png, png32-png256, jpg, jpg70-jpg90, webp)
      tiledrop preview MAP|TILESET.mbtiles -o FILE.png [--size WxH] [--root DIR]
                                                      render a picture of a map fitted to its data (default 1200x800)
      tiledrop --help | --version

    Exit codes: 0 ok, 64 usage, 65 invalid data, 66 missing input, 69 daemon unreachable,
    70 internal error, 73 cannot create output, 74 I/O error, 75 another daemon runs on the root,
    78 bad configuration.
    """

    static func main(_ args: [String]) -> Int32 {
        guard let command = args.first else {
            printError(usage)
            return ExitCode.usage
        }
        let rest = Array(args.dropFirst())
        switch command {
        case "--help", "-h", "help":
            print(usage)
            return ExitCode.ok
        case "--version", "-V", "version":
            print("tiledrop \(version)")
            return ExitCode.ok
        case "run": return RunCommand.run(arguments: rest)
        case "status": return StatusCommand.run(arguments: rest)
        case "convert": return ConvertCommand.run(arguments: rest)
        case "publish": return PublishCommand.run(arguments: rest)
        case "validate-recipe": return ValidateRecipeCommand.run(arguments: rest)
        case "tile": return TileCommand.run(arguments: rest)
        case "render": return RenderCommand.run(arguments: rest)
        case "preview": return PreviewCommand.run(arguments: rest)
        default:
            printError("tiledrop: unknown command '\(command)'; see tiledrop --help")
            return ExitCode.usage
        }
    }
}

/// Writes one message line to stderr.
func printError(_ message: String) {
    var line = Array((message.hasSuffix("\n") ? message : message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// Prints `tiledrop <message>` as one line on stderr and returns `code`.
func fail(_ message: String, code: Int32) -> Int32 {
    printError("tiledrop " + message.split(separator: "\n").joined(separator: " "))
    return code
}

/// Loads the configuration named by `--config` with `--root` over it, or prints why it is
/// invalid; nil means "exit with ExitCode.config".
func loadConfiguration(_ args: Arguments, command: String) -> DaemonConfig? {
    do {
        return try DaemonConfig.load(path: args.value("--config"), rootOverride: args.value("--root"))
    } catch {
        printError("tiledrop \(command): \(error)")
        return nil
    }
}

/// Parses `args` or prints a usage error; nil means "exit with ExitCode.usage".
func parseArguments(_ args: [String], command: String, valued: Set<String> = [], flags: Set<String> = []) -> Arguments? {
    do {
        return try Arguments(args, valued: valued, flags: flags)
    } catch {
        printError("tiledrop \(command): \(error.message); see tiledrop --help")
        return nil
    }
}
