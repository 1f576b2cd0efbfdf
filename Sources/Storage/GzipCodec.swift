import CZlib

/// gzip for PMTiles internal compression (directories and metadata, spec §3.3 value 0x02).
///
/// Inflation is bounded: a directory or metadata blob that would grow past `limit` is an
/// error, so a hostile archive (a gzip bomb in a leaf directory) cannot exhaust memory.
enum GzipCodec {
    /// One gzip member holding `data` (zlib, window bits 15 + 16, default level).
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            fatalError("zlib deflateInit2 failed: out of memory")
        }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 32)
        var input = data
        let produced = input.withUnsafeMutableBytes { src in
            out.withUnsafeMutableBytes { dst in
                stream.next_in = src.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(dst.count)
                let rc = deflate(&stream, Z_FINISH)
                precondition(rc == Z_STREAM_END, "deflate into a deflateBound buffer must finish")
                return Int(stream.total_out)
            }
        }
        out.removeSubrange(produced...)
        return out
    }

    /// Inflates one gzip member; nil when the data is corrupt, truncated, or larger than `limit`.
    static func decompress(_ data: [UInt8], limit: Int) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 31, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: min(limit, max(256, data.count * 4)))
        var input = data
        var rc: Int32 = Z_OK
        var produced = 0
        input.withUnsafeMutableBytes { src in
            stream.next_in = src.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(src.count)
            while true {
                if produced == out.count {
                    guard out.count < limit else { return }
                    out.append(contentsOf: repeatElement(0, count: min(out.count, limit - out.count)))
                }
                out.withUnsafeMutableBytes { dst in
                    stream.next_out = dst.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                    stream.avail_out = uInt(dst.count - produced)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    produced = dst.count - Int(stream.avail_out)
                }
                if rc != Z_OK { return }
                if stream.avail_in == 0 && produced < out.count { return }
            }
        }
        guard rc == Z_STREAM_END else { return nil }
        out.removeSubrange(produced...)
        return out
    }
}
