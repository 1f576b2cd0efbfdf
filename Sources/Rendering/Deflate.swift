import CZlib

/// zlib-format (RFC 1950) compression of whole buffers, as PNG's IDAT stream needs, and
/// the CRC-32 of PNG chunks; one reusable stream per encoder.
final class Deflate {
    private var stream = z_stream()
    private var out: [UInt8] = []

    /// `level` is zlib's 0…9; `strategy` e.g. `Z_FILTERED` for PNG-filtered rows (zlib manual).
    init(level: Int32 = 6, strategy: Int32 = Z_DEFAULT_STRATEGY) {
        let rc = deflateInit2_(&stream, level, Z_DEFLATED, 15, 8, strategy, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2 failed: out of memory")
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `data` into one zlib stream.
    func compress(_ data: [UInt8]) -> [UInt8] {
        deflateReset(&stream)
        let bound = Int(deflateBound(&stream, uLong(data.count))) + 64
        if out.count < bound { out = [UInt8](repeating: 0, count: bound) }
        var input = data
        let produced: Int = input.withUnsafeMutableBytes { inBuf in
            out.withUnsafeMutableBytes { outBuf in
                stream.next_in = inBuf.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(outBuf.count)
                let rc = deflate(&stream, Z_FINISH)
                precondition(rc == Z_STREAM_END, "deflate with a deflateBound-sized buffer must finish")
                return Int(stream.total_out)
            }
        }
        return Array(out[0..<produced])
    }

    /// CRC-32 (ISO 3309, as PNG §5.5 uses) of `bytes`, continuing from `crc`.
    static func crc32(_ bytes: [UInt8], from crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { b in UInt32(CZlib.crc32(uLong(crc), b.baseAddress, uInt(b.count))) }
    }
}
