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
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

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
