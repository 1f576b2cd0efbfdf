import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Where a layer's loaded features live: blocks of records (`FeatureRecord`, up to
/// `blockRecords` each, one `ByteArena` per block) in memory, or spilled to a temporary file
/// once the records of the run would exceed their share of the memory budget.
///
/// Spilling writes each full block's bytes as they are (`u64` byte count, `u32` record
/// count, the records), so reading back is one `fread` per block and no decoding. The file
/// is created with `mkstemp` and unlinked at once, so nothing is left behind even on a crash;
/// every zoom level (and band) streams through it again, a group of blocks at a time.
final class RecordStore: @unchecked Sendable {
    static let blockRecords = 4096
    static let blockBytes = 4 << 20

    private var blocks: [(arena: ByteArena, count: Int)] = []
    private var current = ByteArena(capacity: 1 << 16)
    private var currentCount = 0
    private var file: UnsafeMutablePointer<FILE>?
    private let memory: TilingMemory
    private(set) var count = 0
    private(set) var spilledBytes = 0
    var isSpilled: Bool { file != nil }
    /// Bytes of all records, in memory or spilled (what one pass over them reads).
    var bytes: Int { blocks.reduce(spilledBytes) { $0 + $1.arena.count } }

    init(memory: TilingMemory) { self.memory = memory }

    deinit {
        if let file { fclose(file) }
        let held = blocks.reduce(0) { $0 + $1.arena.footprint }
        memory.release(held)
        memory.recordBytes -= held
    }

    /// The arena the next record goes to; call `commit()` after appending it.
    var arena: ByteArena { current }

    /// Counts the record just appended to `arena` and closes the block when it is full.
    func commit() throws(TilingError) {
        count += 1
        currentCount += 1
        if currentCount >= RecordStore.blockRecords || current.count >= RecordStore.blockBytes { try closeBlock() }
    }

    private func closeBlock() throws(TilingError) {
        guard currentCount > 0 else { return }
        let before = current.footprint
        if file != nil || memory.recordsOverBudget {
            if file == nil {
                try openSpill()
                for b in blocks {
                    try write(b.arena, b.count)
                    memory.release(b.arena.footprint)
                    memory.recordBytes -= b.arena.footprint
                }
                blocks = []
            }
            try write(current, currentCount)
            current.removeAll()
        } else {
            memory.reserve(before)
            memory.recordBytes += before
            blocks.append((current, currentCount))
            current = ByteArena(capacity: 1 << 16)
        }
        currentCount = 0
    }

    /// Closes the last block; call once loading is done.
    func finish() throws(TilingError) {
        try closeBlock()
        if let file { fflush(file) }
        current = ByteArena(capacity: 64)
    }

    private func openSpill() throws(TilingError) {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(dir)/tiledrop-spill-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw .source(name: dir, message: "cannot create a spill file in \(dir) (errno \(errno)); set TMPDIR to a writable directory") }
        unlink(template)
        guard let f = fdopen(fd, "w+b") else {
            close(fd)
            throw .source(name: dir, message: "fdopen of the spill file failed (errno \(errno))")
        }
        file = f
    }

    private func write(_ arena: ByteArena, _ records: Int) throws(TilingError) {
        var header = (UInt64(arena.count), UInt32(records))
        let ok = fwrite(&header.0, 8, 1, file) == 1 && fwrite(&header.1, 4, 1, file) == 1 && fwrite(arena.base, 1, arena.count, file) == arena.count
        guard ok else { throw .source(name: "spill file", message: "write failed (errno \(errno)); is the temporary directory full? set TMPDIR elsewhere") }
        spilledBytes += arena.count + 12
    }

    /// Calls `body` with groups of at most `group` blocks, each block with its records'
    /// offsets, in load order. Spilled blocks are read into arenas reused between groups.
    func forEachGroup(_ group: Int, _ body: ([(arena: ByteArena, offsets: [Int])]) throws -> Void) throws {
        func offsets(_ a: ByteArena, _ n: Int) -> [Int] {
            var out: [Int] = []
            out.reserveCapacity(n)
            var o = 0
            for _ in 0..<n {
                out.append(o)
                o += Int(a.load(o, as: UInt32.self))
            }
            return out
        }
        guard let file else {
            var start = 0
            while start < blocks.count {
                try body(blocks[start..<min(blocks.count, start + group)].map { ($0.arena, offsets($0.arena, $0.count)) })
                start += group
            }
            return
        }
        rewind(file)
        var arenas: [ByteArena] = []
        var reserved = 0
        defer { memory.release(reserved) }
        var done = false
        while !done {
            var batch: [(arena: ByteArena, offsets: [Int])] = []
            while batch.count < group {
                var bytes: UInt64 = 0, records: UInt32 = 0
                guard fread(&bytes, 8, 1, file) == 1 else { done = true; break }
                guard fread(&records, 4, 1, file) == 1, bytes <= UInt64(Int32.max) else { throw TilingError.source(name: "spill file", message: "truncated block header") }
                if arenas.count == batch.count {
                    arenas.append(ByteArena(capacity: Int(bytes)))
                }
                let a = arenas[batch.count]
                let before = a.footprint
                a.removeAll()
                a.reserve(Int(bytes))
                memory.reserve(a.footprint - before)
                reserved += a.footprint - before
                guard fread(a.base, 1, Int(bytes), file) == Int(bytes) else { throw TilingError.source(name: "spill file", message: "truncated block") }
                a.markFilled(Int(bytes))
                batch.append((a, offsets(a, Int(records))))
            }
            if !batch.isEmpty { try body(batch) }
        }
        fseek(file, 0, SEEK_END)
    }
}
