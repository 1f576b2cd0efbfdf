#if canImport(Glibc)
import Glibc
#endif
import GeoModel

/// Streams a line-delimited GeoJSON source file one line at a time, with each line's byte
/// offset and length: what the spatial index of a map's source records, and what compaction
/// copies.
///
/// Memory is one read buffer (1 MiB, grown only for a longer line, up to
/// `ReaderLimits.maxFeatureBytes`). Empty lines are skipped; a line's bytes are valid only
/// inside the closure that receives them.
public final class SourceLineReader {
    /// One feature line: where it starts, how long it is (without its "\n"), and what it holds.
    public struct Line: Sendable {
        public var offset: Int64
        public var length: Int
        /// nil when the line is not a feature the tiler would read (it skips such lines too).
        public var feature: Feature?
    }

    private let input: FileInput
    private let limits: ReaderLimits
    private var buffer: UnsafeMutableRawBufferPointer
    /// Valid bytes are buffer[start..<end]; `base` is the file offset of buffer[0].
    private var start = 0
    private var end = 0
    private var base: Int64 = 0
    private var atEOF = false

    /// Opens `path` without following a symbolic link (`FileInput`).
    public init(path: String, limits: ReaderLimits = .default) throws(FormatError) {
        input = try FileInput(path: path, name: path, followSymlinks: false)
        input.shouldStop = limits.shouldStop
        self.limits = limits
        buffer = .allocate(byteCount: 1 << 20, alignment: 8)
    }

    deinit { buffer.deallocate() }

    /// The file's size when it was opened.
    public var size: Int64 { Int64(input.size) }

    /// Calls `body` with the next non-empty line's offset and bytes; false at the end of the file.
    /// A last line without "\n" counts as a line.
    public func nextRaw(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        while true {
            if let nl = newline() {
                let lineStart = start
                start = nl + 1
                if nl == lineStart { continue }
                try checkLength(nl - lineStart, at: lineStart)
                try body(base + Int64(lineStart), UnsafeRawBufferPointer(rebasing: buffer[lineStart..<nl]))
                return true
            }
            if atEOF {
                guard start < end else { return false }
                let lineStart = start
                start = end
                try checkLength(end - lineStart, at: lineStart)
                try body(base + Int64(lineStart), UnsafeRawBufferPointer(rebasing: buffer[lineStart..<end]))
                return true
            }
            try refill()
        }
    }

    /// The next line, decoded.
    public func next() throws -> Line? {
        var line: Line?
        _ = try nextRaw { offset, bytes in
            line = Line(offset: offset, length: bytes.count, feature: SourceLineReader.decode(bytes, maxDepth: limits.maxNesting))
        }
        return line
    }

    /// Decodes one source line: the fast decoder, else the generic path; nil when it is not a
    /// valid Feature (the tiler's reader skips such a line with a warning).
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = ReaderLimits.default.maxNesting) -> Feature? {
        if let (f, end) = GeoJSONFeatureDecoder.decode(bytes, maxDepth: maxDepth),
           bytes[end...].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            return f
        }
        guard let value = try? JSONParser.parse(Array(bytes)) else { return nil }
        return try? GeoJSONCoding.feature(from: value)
    }

    /// `line` with `"tiledrop_id": id` added as its first member after `"type"`, every other
    /// byte unchanged (so properties, geometry and the tiles made from them stay exactly the
    /// same). For lines written before tiledrop assigned ids.
    public static func stamped(_ line: UnsafeRawBufferPointer, sourceID: Int64) -> [UInt8] {
        let typePrefix = Array(#"{"type":"Feature""#.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(line.count + 32)
        if line.count > typePrefix.count, line.starts(with: typePrefix) {
            out.append(contentsOf: typePrefix)
            out.append(contentsOf: #","tiledrop_id":\#(sourceID)"#.utf8)
            out.append(contentsOf: line[typePrefix.count...])
        } else {
            // Another writer's member order: the id goes first, right after "{".
            let open = line.firstIndex(of: UInt8(ascii: "{")) ?? 0
            out.append(contentsOf: line[..<(open + 1)])
            out.append(contentsOf: #""tiledrop_id":\#(sourceID),"#.utf8)
            out.append(contentsOf: line[(open + 1)...])
        }
        return out
    }

    /// The index of the next "\n" in the valid bytes, if any.
    private func newline() -> Int? {
        guard start < end, let base = buffer.baseAddress,
              let hit = memchr(base + start, 0x0A, end - start) else { return nil }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }

    private func checkLength(_ length: Int, at index: Int) throws {
        guard length > limits.maxFeatureBytes else { return }
        throw FormatError.limitExceeded(file: input.name, message: "the line at byte \(base + Int64(index)) is longer than \(limits.maxFeatureBytes) bytes (ReaderLimits.maxFeatureBytes)")
    }

    /// Moves the unread bytes to the front (growing the buffer for a long line) and reads more.
    private func refill() throws {
        let pending = end - start
        if pending > limits.maxFeatureBytes { try checkLength(pending, at: start) }
        if start > 0 {
            if pending > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, pending) }
            base += Int64(start)
            start = 0
            end = pending
        }
        if end == buffer.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, limits.maxFeatureBytes + 1), alignment: 8)
            grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
            buffer.deallocate()
            buffer = grown
        }
        let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { atEOF = true } else { end += n }
    }
}
