#if canImport(Glibc)
import Glibc
#endif

/// The memory budget of one tiling run (`tiling_memory`, `publish --memory`) and what the
/// big allocations hold against it.
///
/// The budget is split: up to 15 % for loaded records (beyond that they are spilled to a
/// temporary file, which every pass re-reads sequentially, mostly from the page cache) and
/// 45 % for the tile pieces of one pass (a zoom level is cut in bands
/// of columns sized so that each band's pieces fit; a tile denser than that is trimmed to
/// its `layer_size` while it is cut). The rest is for the attribute table, readers, gzip
/// and SQLite. Arenas report what they reserve here, so the job report can say how much the
/// tiler held at most (`peak`), beside the process's peak RSS.
public final class TilingMemory: @unchecked Sendable {
    public static let defaultBudget = 256_000_000
    /// Below this a budget cannot hold one block of records and one of pieces per core.
    public static let minimumBudget = 32_000_000

    public let budget: Int
    let recordBudget: Int
    let pieceBudget: Int
    /// Whether `pieceBudget` was given (tests force bands with it): then bands use it as is.
    private let pieceBudgetGiven: Bool
    /// The smallest band target (`bandBudget`): below it, the passes over the records cost
    /// more than the memory they save.
    static let minimumBand = 8_000_000
    /// Bytes of records held in memory (all layers).
    var recordBytes = 0
    var recordsOverBudget: Bool { recordBytes >= recordBudget }

    private var mutex = pthread_mutex_t()
    private var current = 0
    public private(set) var peak = 0

    /// `recordBudget` and `pieceBudget` override the split (tests use tiny ones).
    public init(budget: Int = TilingMemory.defaultBudget, recordBudget: Int? = nil, pieceBudget: Int? = nil) {
        self.budget = max(TilingMemory.minimumBudget, budget)
        self.recordBudget = recordBudget ?? self.budget / 100 * 15
        self.pieceBudget = pieceBudget ?? self.budget / 100 * 45
        pieceBudgetGiven = pieceBudget != nil
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    /// The piece bytes one band of columns should hold. Holding more than needed only raises
    /// the peak: a small input (Natural Earth: 3 MB of records, 30 MB of z8 pieces) is cut in
    /// a few bands instead of one. Every band re-reads all records, so a band is never made
    /// smaller than the records themselves (the re-reading stays below the cutting work),
    /// nor than `minimumBand`, nor larger than the pieces' share of the budget.
    func bandBudget(recordBytes: Int) -> Int {
        pieceBudgetGiven ? pieceBudget : min(pieceBudget, max(TilingMemory.minimumBand, recordBytes))
    }

    func reserve(_ n: Int) {
        pthread_mutex_lock(&mutex)
        current += n
        peak = max(peak, current)
        pthread_mutex_unlock(&mutex)
    }

    func release(_ n: Int) {
        pthread_mutex_lock(&mutex)
        current -= n
        pthread_mutex_unlock(&mutex)
    }

    /// Starts a new peak: sets the process's RSS high-water mark to its current RSS (writes
    /// `5` to /proc/self/clear_refs, Linux 4.0+), so a daemon reports each job's own peak
    /// rather than the largest since it started. False when the kernel refuses.
    @discardableResult
    public static func resetPeakRSS() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// The process's peak resident set so far (`VmHWM` in /proc/self/status), in bytes.
    public static func processPeakRSS() -> Int? {
        guard let f = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if s.hasPrefix("VmHWM:") {
                let digits = s.dropFirst(6).filter { $0.isNumber }
                return Int(digits).map { $0 * 1024 }
            }
        }
        return nil
    }
}
