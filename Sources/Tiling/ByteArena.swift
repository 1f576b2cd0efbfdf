#if canImport(Glibc)
import Glibc
#endif

/// One growable, contiguous block of bytes holding many small records back to back.
///
/// The tiler keeps loaded features and cut tile pieces in arenas (one per batch of
/// features) and refers to them by offset, so a million pieces cost a handful of
/// allocations instead of one array (and its retain/release traffic) each. Values are
/// stored unaligned in native (little-endian) byte order; an arena is written by one
/// thread and then only read.
///
/// The memory is mapped directly (`mmap`; growing maps twice the size and copies) rather than taken from
/// malloc: freeing an arena gives its pages back to the system at once, so the process's
/// resident size follows what the tiler holds instead of what malloc's per-thread heaps
/// once grew to.
final class ByteArena: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private(set) var capacity: Int
    private static let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    init(capacity: Int = 1 << 16) {
        self.capacity = ByteArena.rounded(max(64, capacity))
        base = ByteArena.map(self.capacity)
    }

    deinit { munmap(base, capacity) }

    private static func rounded(_ n: Int) -> Int { (n + page - 1) / page * page }

    private static func map(_ n: Int) -> UnsafeMutableRawPointer {
        let p = mmap(nil, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else { fatalError("out of memory mapping a tiling arena of \(n) bytes (errno \(errno))") }
        return p
    }

    /// Makes room for `n` more bytes.
    @inline(__always) func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private func grow(_ needed: Int) {
        var c = capacity
        while c < needed { c *= 2 }
        let p = ByteArena.map(c)
        p.copyMemory(from: base, byteCount: count)
        munmap(base, capacity)
        base = p
        capacity = c
    }

    @inline(__always) func append<T: BitwiseCopyable>(_ v: T) {
        reserve(MemoryLayout<T>.size)
        base.storeBytes(of: v, toByteOffset: count, as: T.self)
        count += MemoryLayout<T>.size
    }

    func append(bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: src, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends `v` as a protocol-buffers varint.
    @inline(__always) func appendVarint(_ v: UInt32) {
        reserve(5)
        var v = v
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Overwrites a value written earlier (e.g. a length known only at the end).
    @inline(__always) func store<T: BitwiseCopyable>(_ v: T, at offset: Int) {
        base.storeBytes(of: v, toByteOffset: offset, as: T.self)
    }

    @inline(__always) func load<T: BitwiseCopyable>(_ offset: Int, as: T.Type) -> T {
        base.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// Declares the first `n` bytes written (after filling `base` directly, e.g. by `fread`).
    func markFilled(_ n: Int) {
        reserve(max(0, n - count))
        count = n
    }

    /// Forgets the contents, keeping the memory.
    func removeAll() { count = 0 }

    /// Bytes held (what the memory budget counts).
    var footprint: Int { capacity }
}
