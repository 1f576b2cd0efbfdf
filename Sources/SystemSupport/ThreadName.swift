import CLinux

/// The calling thread's name as the kernel shows it: `comm` in `/proc/PID/task/TID/`, the
/// thread column of `top -H` and `ps -L`, `perf` reports.
public enum ThreadName {
    /// Names the calling thread (`prctl(2)` `PR_SET_NAME`); the kernel keeps at most 15 bytes,
    /// so a longer name keeps its last 15 (the distinguishing end, such as a worker's number).
    public static func set(_ name: String) {
        _ = clinux_set_thread_name(String(decoding: name.utf8.suffix(15), as: UTF8.self))
    }
}
