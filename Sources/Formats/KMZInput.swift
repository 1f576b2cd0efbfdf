import CZlib

/// The bytes of one KMZ entry, inflated on demand with zlib (raw deflate, RFC 1951).
///
/// Zip-bomb defences (all `FormatError.limitExceeded`): the declared size and ratio are
/// checked before reading, and the actual output is counted while inflating — more than the
/// declared size, more than `maxUncompressedBytes`, or more than `maxCompressionRatio` times
/// the compressed bytes read stops at once. The CRC-32 is verified at the end.
final class KMZInput: ByteInput {
    private let file: FileInput
    private let entry: ZipArchive.Entry
    private var offset: Int
    private let end: Int
    private var stream = z_stream()
    private let inCapacity = 256 << 10
    private let inBuffer: UnsafeMutableRawPointer
    private var finished = false
    private var produced = 0
    private var crc: UInt32 = 0
    private let limits: ReaderLimits
    private var name: String { file.name }

    /// Compressed bytes taken from the archive so far (minus what zlib has not used yet).
    var consumed: Int { offset - (end - entry.compressedSize) - Int(stream.avail_in) }

    init(file: FileInput, archive: ZipArchive, entry: ZipArchive.Entry, limits: ReaderLimits) throws(FormatError) {
        let name = file.name
        if entry.flags & 1 != 0 {
            throw FormatError.unsupported(file: name, message: "\(entry.name) is encrypted; KMZ entries must not be password-protected")
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw FormatError.unsupported(file: name, message: "\(entry.name) uses zip compression method \(entry.method); only stored and deflate are supported")
        }
        if entry.uncompressedSize > limits.maxUncompressedBytes {
            throw FormatError.limitExceeded(file: name, message: "\(entry.name) declares \(entry.uncompressedSize >> 20) MiB uncompressed, over the \(limits.maxUncompressedBytes >> 20) MiB limit (ReaderLimits.maxUncompressedBytes)")
        }
        if entry.method == 8, entry.uncompressedSize > max(entry.compressedSize, 1) * limits.maxCompressionRatio {
            throw FormatError.limitExceeded(file: name, message: "\(entry.name) declares a compression ratio over \(limits.maxCompressionRatio):1 (ReaderLimits.maxCompressionRatio); refusing a likely zip bomb")
        }
        self.file = file
        self.entry = entry
        self.limits = limits
        self.offset = try archive.dataOffset(of: entry, file: file)
        self.end = offset + entry.compressedSize
        guard end <= file.size else {
            throw FormatError.malformed(file: name, line: nil, column: nil, message: "\(entry.name) extends past the end of the archive; the KMZ is truncated")
        }
        self.inBuffer = UnsafeMutableRawPointer.allocate(byteCount: inCapacity, alignment: 16)
        if entry.method == 8 {
            let rc = inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard rc == Z_OK else { throw FormatError.unsupported(file: name, message: "zlib inflateInit2 failed (\(rc))") }
        }
    }

    deinit {
        if entry.method == 8 { inflateEnd(&stream) }
        inBuffer.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(FormatError) -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        let n = entry.method == 0 ? try readStored(into: buffer) : try inflate(into: buffer)
        produced += n
        crc = UInt32(crc32(uLong(crc), buffer.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(n)))
        if produced > entry.uncompressedSize || produced > limits.maxUncompressedBytes {
            throw FormatError.limitExceeded(file: name, message: "\(entry.name) inflates beyond its declared size or the \(limits.maxUncompressedBytes >> 20) MiB limit; refusing a likely zip bomb")
        }
        if entry.method == 8, produced > max(consumed, 1) * limits.maxCompressionRatio, produced > 1 << 20 {
            throw FormatError.limitExceeded(file: name, message: "\(entry.name) inflates at more than \(limits.maxCompressionRatio):1 (ReaderLimits.maxCompressionRatio); refusing a likely zip bomb")
        }
        if n == 0 || finished {
            finished = true
            guard produced == entry.uncompressedSize else {
                throw FormatError.malformed(file: name, line: nil, column: nil, message: "\(entry.name) inflated to \(produced) bytes but declares \(entry.uncompressedSize); the KMZ is corrupt")
            }
            guard crc == entry.crc32 else {
                throw FormatError.malformed(file: name, line: nil, column: nil, message: "\(entry.name) fails its CRC-32 check; the KMZ is corrupt")
            }
        }
        return n
    }

    private func readStored(into buffer: UnsafeMutableRawBufferPointer) throws(FormatError) -> Int {
        let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, end - offset)]), at: offset)
        offset += n
        if offset >= end { finished = true }
        return n
    }

    private func inflate(into buffer: UnsafeMutableRawBufferPointer) throws(FormatError) -> Int {
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(buffer.count)
        while stream.avail_out == uInt(buffer.count) {
            if stream.avail_in == 0 {
                let want = min(inCapacity, end - offset)
                guard want > 0 else {
                    throw FormatError.malformed(file: name, line: nil, column: nil, message: "\(entry.name): deflate stream ends early; the KMZ is truncated")
                }
                let got = try file.read(into: UnsafeMutableRawBufferPointer(start: inBuffer, count: want), at: offset)
                guard got > 0 else {
                    throw FormatError.malformed(file: name, line: nil, column: nil, message: "\(entry.name): unexpected end of the archive; the KMZ is truncated")
                }
                offset += got
                stream.next_in = inBuffer.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(got)
            }
            let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
            if rc == Z_STREAM_END {
                finished = true
                break
            }
            guard rc == Z_OK || rc == Z_BUF_ERROR else {
                throw FormatError.malformed(file: name, line: nil, column: nil, message: "\(entry.name): corrupt deflate data (zlib error \(rc))")
            }
        }
        return buffer.count - Int(stream.avail_out)
    }
}
