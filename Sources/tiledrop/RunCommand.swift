#if canImport(Glibc)
import Glibc
#endif
import Daemon
import Foundation
import SystemSupport

/// `tiledrop run [--root DIR] [--config FILE]`: the daemon in the foreground.
enum RunCommand {
    static func run(arguments: [String]) -> Int32 {
        // Threads inherit the scheduling policy too: a daemon started from a background thread
        // (SCHED_IDLE) would put its HTTP server there. Leave it before any thread exists.
        if !ThreadPriority.leaveIdle() {
            printError("tiledrop run: started under SCHED_IDLE and cannot leave it (that needs CAP_SYS_NICE); the server's threads will run only when the CPU is otherwise idle")
        }
        // Block the signals before any other thread exists, so all threads inherit the mask.
        let signals: SignalSet
        do {
            signals = try SignalSet([SIGTERM, SIGINT, SIGHUP])
        } catch {
            printError("tiledrop run: \(error)")
            return ExitCode.software
        }
        guard let args = parseArguments(arguments, .run) else { return ExitCode.usage }
        guard args.positional.isEmpty else {
            printError("tiledrop run: unexpected argument '\(args.positional[0])'; see tiledrop --help")
            return ExitCode.usage
        }
        guard let config = loadConfiguration(args, command: "run") else { return ExitCode.config }
        let daemon = Daemon(config: config, configPath: args.value("--config"), rootOverride: args.value("--root"),
                            signals: signals, environment: ProcessInfo.processInfo.environment)
        do {
            return try daemon.run()
        } catch {
            printError("tiledrop run: \(error)")
            if case .alreadyRunning = error { return ExitCode.tempFail }
            return ExitCode.software
        }
    }
}
