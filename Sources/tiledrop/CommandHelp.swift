/// One subcommand's synopsis, summary and options: the single source of `--help` and of the
/// option names its argument parser accepts, so help can never miss a flag.
struct CommandHelp {
    /// One option: its spellings, the value it takes (nil for a flag) and what it does.
    struct Option {
        var names: [String]
        var value: String?
        var help: String
    }

    var name: String
    var synopsis: String
    var summary: String
    var options: [Option]

    /// Option names that take a value (`--root DIR`).
    var valued: Set<String> { Set(options.filter { $0.value != nil }.flatMap(\.names)) }
    /// Option names that are plain flags (`--json`).
    var flags: Set<String> { Set(options.filter { $0.value == nil }.flatMap(\.names)) }

    /// The text `tiledrop <command> --help` prints.
    var text: String {
        var lines = ["usage: tiledrop \(synopsis)", "", summary]
        if !options.isEmpty {
            lines += ["", "options:"]
            for o in options {
                let spelled = o.names.joined(separator: ", ") + (o.value.map { " " + $0 } ?? "")
                lines.append("  " + spelled.padding(toLength: max(spelled.count, 22), withPad: " ", startingAt: 0) + "  " + o.help)
            }
        }
        lines.append("  -h, --help                print this help and exit")
        return lines.joined(separator: "\n")
    }

    private static let root = Option(names: ["--root"], value: "DIR", help: "the data root (default ./tiledrop-data, or `root =` in the config)")
    private static let config = Option(names: ["--config"], value: "FILE", help: "read settings from FILE (e.g. /etc/tiledrop/tiledrop.conf)")
    private static let socket = Option(names: ["--socket"], value: "PATH", help: "the daemon's status socket (default <root>/tiledrop.sock)")

    static let run = CommandHelp(
        name: "run", synopsis: "run [--root DIR] [--config FILE]",
        summary: "Runs the daemon in the foreground: watches drop/ and recipes/, ingests, publishes, answers the status socket. SIGTERM/SIGINT stop it (exit 0), SIGHUP reloads the configuration.",
        options: [root, config])

    static let status = CommandHelp(
        name: "status", synopsis: "status [--root DIR | --socket PATH] [--config FILE] [--json] [--watch [--interval SECONDS]]",
        summary: "Asks the running daemon for its status: maps, ingests, publish jobs, recipes, warnings. Exit 69 when no daemon answers.",
        options: [root, socket, config,
                  Option(names: ["--json"], value: nil, help: "print the raw JSON answer of GET /v1/status"),
                  Option(names: ["--watch"], value: nil, help: "redraw every interval with the progress of ingests and publish jobs until Ctrl-C"),
                  Option(names: ["--interval"], value: "SECONDS", help: "seconds between redraws with --watch (default 1)")])

    static let republish = CommandHelp(
        name: "republish", synopsis: "republish TILESET [--root DIR | --socket PATH] [--config FILE]",
        summary: "Asks the running daemon to publish TILESET again now (POST /tilesets/v1/TILESET/publish); prints the queued job id.",
        options: [root, socket, config])

    static let token = CommandHelp(
        name: "token", synopsis: "token create --scopes \"SCOPE …\" [--owner NAME] | token list | token revoke ID  [--root DIR | --config FILE]",
        summary: "Manages API tokens in tokens_file (default <root>/tokens, mode 0600; only SHA-256 digests are stored). create prints a new Mapbox-shaped token once; list shows ids, owners and scopes; revoke removes one (by id or the token itself). Changes apply to a running daemon at once.",
        options: [root, config,
                  Option(names: ["--scopes"], value: "\"SCOPE …\"", help: "space- or comma-separated scopes, e.g. \"tilesets:read tilesets:write tilesets:list\""),
                  Option(names: ["--owner"], value: "NAME", help: "the account the token acts as (default: `owner =` in the config, else the user)")])

    static let convert = CommandHelp(
        name: "convert", synopsis: "convert IN [-o OUT]",
        summary: "Converts one KML, KMZ, GPX or GeoJSON file to line-delimited GeoJSON (stdout by default); warnings go to stderr.",
        options: [Option(names: ["-o", "--output"], value: "OUT", help: "write to OUT (written to a temporary name, then renamed)")])

    static let publish = CommandHelp(
        name: "publish", synopsis: "publish RECIPE.json -o OUT.mbtiles|OUT.pmtiles [--json] [--name NAME] [--root DIR] [--threads N] [--memory SIZE]",
        summary: "Tiles the sources of an MTS recipe (file paths relative to the recipe, or tiledrop://tileset-source/<map> of --root) into an MBTiles file, or a PMTiles archive when OUT ends in .pmtiles.",
        options: [Option(names: ["-o", "--output"], value: "OUT", help: "the file to write (required); .pmtiles writes PMTiles v3, anything else MBTiles"),
                  Option(names: ["--json"], value: nil, help: "print the MTS-shaped job report instead of a summary"),
                  Option(names: ["--name"], value: "NAME", help: "the tileset name in the metadata (default: OUT's base name)"),
                  Option(names: ["--root"], value: "DIR", help: "resolve tiledrop://tileset-source/<map> from DIR/sources/<map>/"),
                  Option(names: ["--threads"], value: "N", help: "worker threads (default: the number of cores)"),
                  Option(names: ["--memory"], value: "SIZE", help: "memory budget for tiling, e.g. 512M or 2G (default 256M, at least 32M): features spill to $TMPDIR and zooms are cut in bands beyond it")])

    static let validateRecipe = CommandHelp(
        name: "validate-recipe", synopsis: "validate-recipe RECIPE.json",
        summary: "Checks a recipe; prints {\"valid\": true} or {\"valid\": false, \"errors\": [...]} (exit 0 when valid, 65 when not).",
        options: [])

    static let tile = CommandHelp(
        name: "tile", synopsis: "tile FILE.mbtiles|FILE.pmtiles Z/X/Y",
        summary: "Prints one tile of an MBTiles file or PMTiles archive as a GeoJSON FeatureCollection (XYZ addressing).",
        options: [])

    static let convertTiles = CommandHelp(
        name: "convert-tiles", synopsis: "convert-tiles IN OUT",
        summary: "Copies a tileset between MBTiles and PMTiles: IN is recognised by its content, OUT's extension (.mbtiles or .pmtiles) chooses; every tile and metadata value is kept.",
        options: [])

    static let render = CommandHelp(
        name: "render", synopsis: "render TILESET.mbtiles|TILESET Z/X/Y[@2x].FORMAT -o FILE [--root DIR] [--config FILE]",
        summary: "Renders one raster tile (png, png32-png256, jpg, jpg70-jpg90, webp) of a tileset; a bare TILESET is looked up in the root's tiles/.",
        options: [Option(names: ["-o", "--output"], value: "FILE", help: "the image file to write (required)"), root, config])

    static let preview = CommandHelp(
        name: "preview", synopsis: "preview MAP|TILESET.mbtiles -o FILE.png [--size WIDTHxHEIGHT] [--root DIR] [--config FILE]",
        summary: "Renders a picture of a map fitted to its data, as the daemon writes to previews/<map>.png after each publish.",
        options: [Option(names: ["-o", "--output"], value: "FILE.png", help: "the image file to write (required)"),
                  Option(names: ["--size"], value: "WIDTHxHEIGHT", help: "picture size in pixels (default 1200x800)"), root, config])

    /// Every subcommand, in the order `tiledrop --help` lists them.
    static let all: [CommandHelp] = [run, status, republish, token, convert, publish, validateRecipe, tile, convertTiles, render, preview]

    static func named(_ name: String) -> CommandHelp? { all.first { $0.name == name } }
}
