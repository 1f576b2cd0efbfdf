import XCTest
@testable import API

/// The served-tile cache: keys name the file's inode and change counter, the byte budget holds
/// (oldest out first), and oversized tiles are never kept.
final class TileBytesCacheTests: XCTestCase {
    private func key(_ x: Int32, version: UInt32 = 1) -> TileBytesCache.Key {
        TileBytesCache.Key(device: 1, inode: 7, version: version, z: 3, x: x, y: 2)
    }

    func testKeepsTilesWithinTheBudgetOldestOutFirst() {
        let cache = TileBytesCache(maxBytes: 250, maxTileBytes: 120)
        cache.store(key(0), [UInt8](repeating: 0, count: 100))
        cache.store(key(1), [UInt8](repeating: 1, count: 100))
        XCTAssertEqual(cache.tile(key(0))?.count, 100)
        XCTAssertNil(cache.tile(key(0, version: 2)), "another change counter is another file state")
        cache.store(key(2), [UInt8](repeating: 2, count: 100))
        XCTAssertNil(cache.tile(key(0)), "the oldest went to make room")
        XCTAssertEqual(cache.tile(key(2))?.first, 2)
        XCTAssertLessThanOrEqual(cache.size, 250)
        cache.store(key(3), [UInt8](repeating: 3, count: 121))
        XCTAssertNil(cache.tile(key(3)), "tiles over maxTileBytes are not kept")
        cache.store(key(2), [UInt8](repeating: 2, count: 100))
        XCTAssertEqual(cache.size, 200, "storing a key again does not count it twice")
    }
}
