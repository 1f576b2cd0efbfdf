import CLinux

/// The process heap as glibc's allocator keeps it.
public enum Heap {
    /// Hands freed heap memory back to the system (`malloc_trim(3)`): after a burst of work that
    /// allocated much (a publish), the resident size returns to what the process still uses
    /// instead of staying at the burst's peak.
    public static func releaseFreeMemory() {
        _ = clinux_malloc_trim(0)
    }
}
