#if canImport(Glibc)
import Glibc
#endif

/// Runs an operator's command (no shell) with a deadline and captures its output.
///
/// `posix_spawnp(3)` in a new process group, stdin `/dev/null`, stdout and stderr into one
/// pipe. Output past `maxOutput` bytes is read and dropped (so the child never blocks on a
/// full pipe) and counted. When `timeout` passes, the whole group gets SIGTERM, then
/// SIGKILL a second later; the call always returns by about `timeout + 1` seconds.
public enum Subprocess {
    public struct Result: Sendable, Equatable {
        /// The exit status, or nil when a signal ended the process.
        public var exitStatus: Int32?
        /// The signal that ended the process, if one did.
        public var signal: Int32?
        public var timedOut: Bool
        public var seconds: Double
        /// The first `maxOutput` bytes of stdout + stderr.
        public var output: [UInt8]
        /// Bytes beyond `maxOutput` that were dropped.
        public var droppedBytes: Int

        public var succeeded: Bool { exitStatus == 0 && !timedOut }
    }

    /// Runs `argv` (argv[0] is looked up in PATH when it has no `/`).
    public static func run(_ argv: [String], timeout: Double, maxOutput: Int = 4096) throws(SystemError) -> Result {
        guard let program = argv.first, !program.isEmpty else { throw SystemError(call: "posix_spawn", target: "(empty command)", errno: EINVAL) }
        var fds: [Int32] = [-1, -1]
        // pipe2(2) is not in Swift's Glibc module: pipe(2), then FD_CLOEXEC on both ends (the
        // child gets the write end through dup2, which clears the flag on the copy).
        _ = try retryingEINTR("pipe", program) { pipe(&fds) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        defer { close(fds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)

        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let start = monotonicSeconds()
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, program, &actions, &attributes, cArgs, environ)
        close(fds[1])
        guard rc == 0 else { throw SystemError(call: "posix_spawnp", target: program, errno: rc) }

        var output: [UInt8] = []
        var dropped = 0
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 4096)
        /// Reads once from the pipe, keeping what fits; false at end of file or on an error.
        func readOnce() -> Bool {
            let got = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if got < 0 { return errno == EINTR || errno == EAGAIN }
            let keep = max(0, min(got, maxOutput - output.count))
            output.append(contentsOf: chunk[0..<keep])
            dropped += got - keep
            return got > 0
        }
        var open = true
        var status: Int32 = 0
        var exited = false
        while !exited {
            let remaining = timeout - (monotonicSeconds() - start)
            if remaining <= 0 {
                timedOut = true
                break
            }
            if open {
                var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
                let n = poll(&p, 1, Int32(min(remaining, 0.1) * 1000) + 1)
                if n > 0 && !readOnce() { open = false }
            } else {
                usleep(10_000)
            }
            exited = waitpid(pid, &status, WNOHANG) == pid
        }
        if timedOut {
            kill(-pid, SIGTERM)
            let graceEnd = monotonicSeconds() + 1
            while waitpid(pid, &status, WNOHANG) != pid {
                if monotonicSeconds() > graceEnd {
                    kill(-pid, SIGKILL)
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    break
                }
                usleep(10_000)
            }
        } else {
            // What the child wrote just before exiting; a grandchild still holding the pipe
            // open is not waited for beyond the deadline.
            var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            while open, monotonicSeconds() - start < timeout, poll(&p, 1, 0) > 0, readOnce() {}
        }
        let signaled = (status & 0x7F) != 0
        return Result(exitStatus: signaled ? nil : (status >> 8) & 0xFF, signal: signaled ? status & 0x7F : nil,
                      timedOut: timedOut, seconds: monotonicSeconds() - start, output: output, droppedBytes: dropped)
    }

    private static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
