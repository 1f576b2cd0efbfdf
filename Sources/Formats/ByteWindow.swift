/// A sliding window over a `ByteInput`: the buffer every streaming reader scans.
///
/// Positions are absolute byte offsets in the input, so a reader's marks stay valid when
/// the window slides. `fill(keepingFrom:)` discards bytes before the mark, moves the rest
/// to the front and reads more; it grows the buffer only when the kept span (one feature,
/// one XML element) fills it, up to `maxKeep` — that is what bounds memory.
final class ByteWindow {
    private(set) var storage: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Absolute offset of `storage[0]`.
    private(set) var base = 0
    /// Absolute offset one past the last valid byte.
    private(set) var end = 0
    private(set) var atEOF = false
    let input: ByteInput
    let maxKeep: Int
    let name: String
    /// The normal buffer size, returned to after a large feature.
    let chunk: Int
    /// Bytes from this absolute offset on are kept by every `fill`, whatever its mark: set
    /// while a reader copies out one whole element (`XMLScanner.readTree`).
    var floor = Int.max

    init(input: ByteInput, name: String, chunk: Int = 1 << 20, maxKeep: Int) {
        self.input = input
        self.name = name
        let maxKeep = max(maxKeep, 4096)
        self.capacity = min(chunk, maxKeep)
        self.chunk = min(chunk, maxKeep)
        self.maxKeep = maxKeep
        self.storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The byte at absolute offset `i` (must be within `base..<end`).
    @inline(__always) subscript(i: Int) -> UInt8 {
        storage.load(fromByteOffset: i - base, as: UInt8.self)
    }

    /// A view of absolute range `range` (valid until the next `fill`).
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + (range.lowerBound - base), count: range.count)
    }

    /// Reads more input, keeping bytes from absolute offset `mark` on. Returns false at end
    /// of input (nothing more was read). Throws `limitExceeded` when the kept span would
    /// have to grow beyond `maxKeep`.
    @discardableResult
    func fill(keepingFrom mark: Int) throws(FormatError) -> Bool {
        if atEOF { return false }
        let mark = min(mark, floor)
        precondition(mark >= base && mark <= end)
        let keep = end - mark
        if mark > base {
            if keep > 0 { storage.copyMemory(from: storage + (mark - base), byteCount: keep) }
            base = mark
        }
        if keep == capacity {
            guard capacity < maxKeep else {
                throw FormatError.limitExceeded(file: name, message: "a single feature or element is larger than \(maxKeep) bytes (ReaderLimits.maxFeatureBytes); split the file or raise the limit")
            }
            let newCapacity = min(capacity * 2, maxKeep)
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            bigger.copyMemory(from: storage, byteCount: keep)
            storage.deallocate()
            storage = bigger
            capacity = newCapacity
        }
        let n = try input.read(into: UnsafeMutableRawBufferPointer(start: storage + keep, count: capacity - keep))
        if n == 0 {
            atEOF = true
            return false
        }
        end = base + keep + n
        return true
    }

    /// Shrinks the buffer back to `chunk` bytes when it grew for one large feature and the
    /// kept span is small again, so one outlier does not pin memory for the rest of the file.
    func shrinkIfLarge(keepingFrom mark: Int) {
        guard capacity > chunk, end - mark <= chunk / 2 else { return }
        let keep = end - mark
        let smaller = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        smaller.copyMemory(from: storage + (mark - base), byteCount: keep)
        storage.deallocate()
        storage = smaller
        capacity = chunk
        base = mark
    }
}
