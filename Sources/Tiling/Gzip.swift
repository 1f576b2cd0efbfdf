import CZlib

/// gzip (RFC 1952) compression and decompression of whole buffers through zlib.
///
/// MBTiles 1.3 stores vector tiles gzip-compressed; tiles are small, so one-shot buffers
/// are simpler and faster than streaming.
public enum Gzip {
    /// Compresses `data` into a gzip member (zlib `deflateInit2` with window bits 15 + 16).
    public static func compress(_ data: [UInt8], level: Int32 = 6) -> [UInt8] {
        Compressor(level: level).compress(data)
    }

    /// A reusable compressor: one zlib stream reset between buffers, which saves allocating
    /// and clearing ~256 KB of deflate state per tile.
    ///
    /// `windowBits` 15 + 16 writes gzip (RFC 1952, MBTiles tiles); 15 writes the zlib format
    /// (RFC 1950) that PNG's IDAT stream needs. `strategy` is zlib's (e.g. `Z_FILTERED`).
    package final class Compressor {
        private var stream = z_stream()
        private var out: [UInt8] = []

        package init(level: Int32 = 6, windowBits: Int32 = 15 + 16, strategy: Int32 = Z_DEFAULT_STRATEGY) {
            let rc = deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, strategy, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            precondition(rc == Z_OK, "deflateInit2 failed: out of memory")
        }

        deinit { deflateEnd(&stream) }

        package func compress(_ data: [UInt8]) -> [UInt8] {
            deflateReset(&stream)
            let bound = Int(deflateBound(&stream, uLong(data.count))) + 32
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
    }

    /// True when `data` starts with the gzip magic bytes.
    public static func isGzip(_ data: [UInt8]) -> Bool { data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B }

    /// Decompresses gzip or zlib data (auto-detected), refusing output larger than `limit`.
    public static func decompress(_ data: [UInt8], limit: Int = 64 << 20) throws(TilingError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalidTile("inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4096, data.count * 4))
        var input = data
        var rc: Int32 = Z_OK
        input.withUnsafeMutableBytes { inBuf in
            stream.next_in = inBuf.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBytes { c in
                    stream.next_out = c.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(c.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    out.append(contentsOf: c.prefix(c.count - Int(stream.avail_out)))
                }
            } while rc == Z_OK && out.count <= limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard out.count <= limit else { throw .invalidTile("decompressed tile is larger than \(limit) bytes") }
        guard rc == Z_STREAM_END else { throw .invalidTile("gzip data is corrupt or truncated (zlib code \(rc))") }
        return out
    }
}
