import CLinux

/// The process heap as the kernel sees it.
public enum HeapMemory {
    /// Hands memory the allocator holds but no longer uses back to the kernel
    /// (`malloc_trim(3)`, every arena).
    ///
    /// glibc keeps freed blocks for reuse, so after one large piece of work (a publish, a map
    /// preview) a daemon's resident set stays at that work's peak, and every later job is
    /// measured, and charged by the kernel, from there. The daemon calls this after each.
    public static func releaseFreed() {
        _ = malloc_trim(0)
    }
}
