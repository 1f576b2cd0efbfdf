#if canImport(Glibc)
import Glibc
#endif

/// The calling thread's scheduling niceness. On Linux, `setpriority(2)` with `PRIO_PROCESS` and
/// id 0 applies to the calling thread only, and threads it creates inherit the value.
///
/// The daemon runs ingest and publish work at `background` so that, on a machine with few
/// cores, converting and tiling never take CPU time the HTTP server's threads need to answer
/// tile reads in time.
public enum ThreadPriority {
    /// The niceness of ingest and publish work (the server's threads keep the process's own).
    public static let background: Int32 = 10

    /// The calling thread's nice value (`getpriority(2)`); 0 if it cannot be read.
    public static var currentNice: Int32 {
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : 0
    }

    /// Raises the calling thread's nice value to at least `nice`. It is never lowered: that
    /// needs `CAP_SYS_NICE`, and a thread once in the background stays there.
    public static func lower(toNice nice: Int32) {
        guard currentNice < nice else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
    }
}
