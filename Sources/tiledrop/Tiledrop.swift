#if canImport(Glibc)
import Glibc
#endif
import Daemon

/// The `tiledrop` command: dispatches to one subcommand and returns its exit code.
enum Tiledrop {
    static let version = TiledropVersion.string

    static var usage: String {
        var lines = ["tiledrop \(version): drop KML, KMZ, GPX or GeoJSON files into a folder, get MBTiles vector tilesets.", "", "Usage:"]
        for c in CommandHelp.all {
            lines.append("  tiledrop " + c.synopsis)
            lines.append("      " + (c.summary.split(separator: ".").first.map(String.init) ?? c.summary))
        }
        lines += ["  tiledrop --help | --version", "",
                  "`tiledrop <command> --help` lists a command's options.",
                  "Exit codes: 0 ok, 64 usage, 65 invalid data, 66 missing input, 69 daemon unreachable,",
                  "70 internal error, 73 cannot create output, 74 I/O error, 75 another daemon runs on the root,",
                  "78 bad configuration."]
        return lines.joined(separator: "\n")
    }

    static func main(_ args: [String]) -> Int32 {
        guard let command = args.first else {
            printError(usage)
            return ExitCode.usage
        }
        let rest = Array(args.dropFirst())
        if let help = CommandHelp.named(command), rest.contains("--help") || rest.contains("-h") {
            print(help.text)
            return ExitCode.ok
        }
        switch command {
        case "--help", "-h", "help":
            if let name = rest.first, let help = CommandHelp.named(name) { print(help.text) } else { print(usage) }
            return ExitCode.ok
        case "--version", "-V", "version":
            print("tiledrop \(version)")
            return ExitCode.ok
        case "run": return RunCommand.run(arguments: rest)
        case "status": return StatusCommand.run(arguments: rest)
        case "republish": return RepublishCommand.run(arguments: rest)
        case "token": return TokenCommand.run(arguments: rest)
        case "convert": return ConvertCommand.run(arguments: rest)
        case "publish": return PublishCommand.run(arguments: rest)
        case "validate-recipe": return ValidateRecipeCommand.run(arguments: rest)
        case "tile": return TileCommand.run(arguments: rest)
        case "convert-tiles": return ConvertTilesCommand.run(arguments: rest)
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
func parseArguments(_ args: [String], _ help: CommandHelp) -> Arguments? {
    do {
        return try Arguments(args, valued: help.valued, flags: help.flags)
    } catch {
        printError("tiledrop \(help.name): \(error.message); see tiledrop \(help.name) --help")
        return nil
    }
}
