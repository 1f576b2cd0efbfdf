/// Ingestion's back-off while the disk is full: which attempts may run, and what the status says.
///
/// A file whose conversion hit ENOSPC is put back in its drop folder; without a back-off the
/// next scan would claim it again at once, fail again, and write a row and a log line every
/// scan forever. Instead, after a failure no file is claimed until the back-off delay has
/// passed *and* the free space has grown beyond what it was after the failure (or reached
/// `min_free_space`, when that was the reason). Each failed retry doubles the delay, up to
/// `maxDelay`; a successful ingest resets it. Owned by the ingest queue.
struct DiskPause {
    static let firstDelay = 2.0
    static let maxDelay = 300.0
    /// The `StatusNotes` key of the pause; the status shows its note as `paused_reason`.
    static let noteKey = "paused"

    /// Monotonic time before which nothing is claimed.
    var retryAt: Double
    /// Free bytes when the pause began; a retry waits until there are more.
    var freeBytes: Int64
    /// Free bytes needed for the file that failed (an estimate), for the status.
    var neededBytes: Int64
    /// The delay that led to `retryAt`; doubled by the next failure.
    var delay: Double
    /// Set when the cause was a temporary system error (EMFILE, ENFILE, EIO), not space: then
    /// only the delay must pass.
    var temporary: String?

    /// The status line: `disk full: N bytes free, need M`.
    func reason(root: String) -> String {
        if let temporary { return "\(temporary); ingestion resumes in \(Int(delay)) s" }
        return "disk full: \(freeBytes) bytes free under \(root), need \(neededBytes); ingestion resumes when space is freed"
    }

    /// A pause after a failure (or after the first sight of free space below the minimum);
    /// `previousDelay` is the delay of the pause before it since the last success, doubled here.
    static func after(previousDelay: Double?, now: Double, free: Int64, needed: Int64) -> DiskPause {
        let delay = previousDelay.map { min($0 * 2, maxDelay) } ?? firstDelay
        return DiskPause(retryAt: now + delay, freeBytes: free, neededBytes: needed, delay: delay)
    }

    /// Whether a claim may be tried now: the delay has passed and the space has grown
    /// (beyond the free space when paused, and to at least `minimum`).
    func allowsRetry(now: Double, free: Int64, minimum: Int64) -> Bool {
        now >= retryAt && (temporary != nil || free > freeBytes) && free >= minimum
    }
}
