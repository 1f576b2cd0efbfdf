import Foundation

/// A bounded cache of encoded raster tiles, least recently used out first.
///
/// Keys include the identity (inode, size, modification time) of every tileset file drawn,
/// so a republish, which swaps a new file in by rename, invalidates its tiles without any
/// signal: the next request simply misses. Thread-safe (the server's workers share it).
final class RasterTileCache: @unchecked Sendable {
    private let maxBytes: Int
    private let lock = NSLock()
    private var entries: [String: (bytes: [UInt8], tick: UInt64)] = [:]
    private var totalBytes = 0
    private var tick: UInt64 = 0

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    func get(_ key: String) -> [UInt8]? {
        lock.withLock {
            guard var e = entries[key] else { return nil }
            tick += 1
            e.tick = tick
            entries[key] = e
            return e.bytes
        }
    }

    func put(_ key: String, _ bytes: [UInt8]) {
        guard bytes.count <= maxBytes / 8 else { return }
        lock.withLock {
            tick += 1
            if let old = entries[key] { totalBytes -= old.bytes.count }
            entries[key] = (bytes, tick)
            totalBytes += bytes.count
            while totalBytes > maxBytes, let oldest = entries.min(by: { $0.value.tick < $1.value.tick }) {
                totalBytes -= oldest.value.bytes.count
                entries[oldest.key] = nil
            }
        }
    }

    var count: Int { lock.withLock { entries.count } }
}
