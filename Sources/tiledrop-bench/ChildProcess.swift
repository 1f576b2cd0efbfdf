#if canImport(Glibc)
import Glibc
#endif

/// Runs a program as a child (posix_spawn) and reports wall time and its peak RSS (wait4 rusage).
enum ChildProcess {
    struct Result {
        var exitCode: Int32
        var seconds: Double
        var maxRSSKiB: Int
    }

    static func run(_ argv: [String]) -> Result {
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        let start = now()
        let rc = posix_spawn(&pid, argv[0], &fileActions, nil, cArgs, environ)
        guard rc == 0 else { return Result(exitCode: 127, seconds: 0, maxRSSKiB: 0) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let seconds = now() - start
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(exitCode: code, seconds: seconds, maxRSSKiB: Int(usage.ru_maxrss))
    }

    static func which(_ program: String) -> String? {
        for dir in (getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(program)"
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
