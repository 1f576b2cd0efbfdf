import API
import Daemon
import Foundation

/// `tiledrop token create|list|revoke`: the API tokens file, without a running daemon.
enum TokenCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let args = parseArguments(arguments, .token) else { return ExitCode.usage }
        guard let action = args.positional.first, ["create", "list", "revoke"].contains(action) else {
            return fail("token: expected create, list or revoke; usage: tiledrop \(CommandHelp.token.synopsis)", code: ExitCode.usage)
        }
        guard let config = loadConfiguration(args, command: "token") else { return ExitCode.config }
        let store = TokenStore(path: config.tokensPath)
        do {
            switch action {
            case "create":
                guard let scopeText = args.value("--scopes") else {
                    return fail("token create: --scopes is required, e.g. --scopes \"tilesets:read tilesets:write tilesets:list\"", code: ExitCode.usage)
                }
                let scopes = scopeText.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
                guard !scopes.isEmpty else { return fail("token create: --scopes names no scope", code: ExitCode.usage) }
                let owner = args.value("--owner") ?? config.owner ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
                let created = try store.create(owner: owner, scopes: scopes, now: Int64(Date().timeIntervalSince1970 * 1000))
                print(created.token)
                printError("token \(created.record.id) for \(owner) with scopes \(scopes.joined(separator: " ")) stored in \(store.path); this is the only time it is shown")
            case "list":
                for r in try store.list() {
                    print("\(r.id)\t\(r.owner)\t\(r.scopes.joined(separator: " "))\t\(Date(timeIntervalSince1970: Double(r.created) / 1000))")
                }
            default:
                guard args.positional.count == 2 else { return fail("token revoke: expected one token id (see tiledrop token list)", code: ExitCode.usage) }
                guard try store.revoke(args.positional[1]) else {
                    return fail("token revoke: no token with id \(args.positional[1]) in \(store.path); see tiledrop token list", code: ExitCode.noInput)
                }
                print("revoked \(args.positional[1])")
            }
        } catch {
            return fail("token \(action): \(error)", code: ExitCode.cantCreate)
        }
        return ExitCode.ok
    }
}
