import Foundation

/// Stored tiles kept in memory, so a tile asked for again costs no SQLite read: at most
/// `maxBytes` of tile data (oldest out first), tiles over `maxTileBytes` never kept.
///
/// A key names the file (device, inode) and its SQLite file change counter (header offset 24,
/// bumped by every commit in rollback-journal mode), read before the tile: a file replaced by a
/// publish has another inode, a file updated in place another counter, so a cached tile is
/// never served for a file that changed after it was read.
final class TileBytesCache: @unchecked Sendable {
    struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
        var version: UInt32
        var z: Int32
        var x: Int32
        var y: Int32
    }

    let maxBytes: Int
    let maxTileBytes: Int
    private let lock = NSLock()
    private var tiles: [Key: [UInt8]] = [:]
    /// Keys in the order they were stored; `head` is the oldest still in `tiles`.
    private var order: [Key] = []
    private var head = 0
    private var bytes = 0

    init(maxBytes: Int, maxTileBytes: Int = 64 * 1024) {
        self.maxBytes = maxBytes
        self.maxTileBytes = maxTileBytes
    }

    func tile(_ key: Key) -> [UInt8]? {
        lock.withLock { tiles[key] }
    }

    func store(_ key: Key, _ data: [UInt8]) {
        guard data.count <= maxTileBytes, maxBytes > 0 else { return }
        lock.withLock {
            guard tiles.updateValue(data, forKey: key) == nil else { return }
            order.append(key)
            bytes += data.count
            while bytes > maxBytes && head < order.count {
                if let old = tiles.removeValue(forKey: order[head]) { bytes -= old.count }
                head += 1
            }
            if head > 1024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    /// Bytes of tile data held.
    var size: Int { lock.withLock { bytes } }
}
