import Daemon
import GeoModel

/// `tiledrop republish TILESET [--root DIR | --socket PATH]`: asks the daemon to publish a
/// tileset again now (`POST /tilesets/v1/TILESET/publish`).
enum RepublishCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, .republish) else { return ExitCode.usage }
        guard args.positional.count == 1 else {
            return fail("republish: expected one tileset name; usage: tiledrop \(CommandHelp.republish.synopsis)", code: ExitCode.usage)
        }
        guard let config = loadConfiguration(args, command: "republish") else { return ExitCode.config }
        let tileset = args.positional[0]
        let path = args.value("--socket") ?? config.socketPath
        let answer: StatusClient.Answer
        do {
            answer = try StatusClient(socketPath: path).request("POST", "/tilesets/v1/\(StatusClient.escape(tileset))/publish")
        } catch {
            return fail("republish: cannot reach the daemon at \(path): \(error). Is `tiledrop run` running with the same --root?", code: ExitCode.unavailable)
        }
        guard answer.status == 200 else {
            return fail("republish: \(answer.body["message"]?.stringValue ?? "HTTP \(answer.status)")", code: answer.status == 404 ? ExitCode.noInput : ExitCode.software)
        }
        print("tileset \(tileset): publish job \(answer.body["jobId"]?.stringValue ?? "?") queued; follow it with tiledrop status --watch")
        return ExitCode.ok
    }
}
