import CZlib
import Tiling

/// zlib-format (RFC 1950) compression of whole buffers, as PNG's IDAT stream needs, and
/// the CRC-32 of PNG chunks; one reusable stream per encoder (Tiling's `Gzip.Compressor`
/// with zlib window bits instead of gzip's).
final class Deflate {
    private let compressor: Gzip.Compressor

    /// `level` is zlib's 0…9; `strategy` e.g. `Z_FILTERED` for PNG-filtered rows (zlib manual).
    init(level: Int32 = 6, strategy: Int32 = Z_DEFAULT_STRATEGY) {
        compressor = Gzip.Compressor(level: level, windowBits: 15, strategy: strategy)
    }

    /// Compresses `data` into one zlib stream.
    func compress(_ data: [UInt8]) -> [UInt8] { compressor.compress(data) }

    /// CRC-32 (ISO 3309, as PNG §5.5 uses) of `bytes`, continuing from `crc`.
    static func crc32(_ bytes: [UInt8], from crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { b in UInt32(CZlib.crc32(uLong(crc), b.baseAddress, uInt(b.count))) }
    }
}
