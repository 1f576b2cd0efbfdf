import Daemon
import Rendering
import SystemSupport

/// `tiledrop preview MAP -o FILE.png [--size WxH] [--root DIR]`: a picture of a map's tileset
/// fitted to its data, as the daemon writes to `previews/<map>.png` after each publish.
enum PreviewCommand {
    static let usage = "usage: tiledrop " + CommandHelp.preview.synopsis

    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, .preview) else { return ExitCode.usage }
        guard args.positional.count == 1, let output = args.value("-o") ?? args.value("--output") else {
            return fail("preview: \(usage)", code: ExitCode.usage)
        }
        var width = 1200, height = 800
        if let size = args.value("--size") {
            let p = size.split(separator: "x").compactMap { Int($0) }
            guard p.count == 2, (1...8192).contains(p[0]), (1...8192).contains(p[1]) else {
                return fail("preview: --size \(size) is not WIDTHxHEIGHT with 1 to 8192 pixels per side, e.g. 1200x800", code: ExitCode.usage)
            }
            (width, height) = (p[0], p[1])
        }
        let format: RasterFormat
        do {
            let ext = output.split(separator: ".").last.map(String.init) ?? "png"
            format = try RasterFormat(parsing: ext == "jpeg" ? "jpg" : ext)
        } catch {
            return fail("preview: \(output): \(error)", code: ExitCode.usage)
        }
        guard let path = tilesetPath(args.positional[0], args: args, command: "preview") else { return ExitCode.config }
        do {
            let canvas = try TilesetRasterizer(path: path).preview(width: width, height: height)
            try FileSystem().writeAtomically(output, bytes: format.encode(canvas))
            return ExitCode.ok
        } catch let e as SystemError {
            return fail("preview: cannot write \(output): \(e)", code: ExitCode.cantCreate)
        } catch {
            return fail("preview: \(error)", code: ExitCode.noInput)
        }
    }
}
