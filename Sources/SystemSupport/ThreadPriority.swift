#if canImport(Glibc)
import Glibc
#endif

/// The calling thread's scheduling niceness and policy. On Linux, `setpriority(2)` with
/// `PRIO_PROCESS` and id 0, and `sched_setscheduler(2)` with pid 0, apply to the calling thread
/// only, and threads it creates inherit both.
///
/// The daemon runs ingest and publish work in the background so that, on a machine with few
/// cores, converting and tiling never take CPU time the HTTP server's threads need to answer
/// tile reads in time.
public enum ThreadPriority {
    /// The niceness of ingest and publish work (the server's threads keep the process's own).
    public static let background: Int32 = 10

    /// `SCHED_IDLE` (sched(7)): the thread runs only when no ordinary thread of its group wants
    /// the CPU, and an ordinary thread that wakes preempts it at once.
    public static let idlePolicy: Int32 = 5

    /// How background work is scheduled.
    public struct Background: Sendable, Equatable {
        /// The nice value (0–19); it orders background threads among themselves.
        public var nice: Int32
        /// Also switch to `SCHED_IDLE`, so a woken server thread never waits for a slice of
        /// background work to end (with nice alone it may wait a few milliseconds).
        public var idle: Bool

        public init(nice: Int32 = ThreadPriority.background, idle: Bool = true) {
            self.nice = nice
            self.idle = idle
        }
    }

    /// The calling thread's nice value (`getpriority(2)`); 0 if it cannot be read.
    public static var currentNice: Int32 {
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : 0
    }

    /// Whether the calling thread runs under `SCHED_IDLE` (`sched_getscheduler(2)`).
    public static var isIdle: Bool { sched_getscheduler(0) == idlePolicy }

    /// Raises the calling thread's nice value to at least `nice`. It is never lowered: that
    /// needs `CAP_SYS_NICE`, and a thread once in the background stays there.
    public static func lower(toNice nice: Int32) {
        guard currentNice < nice else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
    }

    /// Puts the calling thread in the background as `background` says. Like the nice value,
    /// `SCHED_IDLE` is not left again (leaving it needs `CAP_SYS_NICE` or `RLIMIT_NICE`).
    /// Returns false when the kernel refused the policy (the nice value still applies).
    @discardableResult
    public static func enter(_ background: Background) -> Bool {
        lower(toNice: background.nice)
        guard background.idle, !isIdle else { return true }
        var parameters = sched_param(sched_priority: 0)
        return sched_setscheduler(0, idlePolicy, &parameters) == 0
    }

    /// Switches the calling thread from `SCHED_IDLE` back to the ordinary policy (`SCHED_OTHER`);
    /// false when the kernel refuses (without `CAP_SYS_NICE`, unless the thread's nice value
    /// lies within `RLIMIT_NICE`). True when the thread was not idle.
    public static func leaveIdle() -> Bool {
        guard isIdle else { return true }
        var parameters = sched_param(sched_priority: 0)
        return sched_setscheduler(0, Int32(SCHED_OTHER), &parameters) == 0
    }
}
