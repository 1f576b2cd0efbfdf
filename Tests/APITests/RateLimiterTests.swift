import Foundation
import HTTP
import XCTest
@testable import API

final class RateLimiterTests: XCTestCase {
    /// A settable Unix clock.
    private final class Clock: @unchecked Sendable {
        var now = 1_000_000.0
    }

    func testCountsPerKeyInFixedWindowsAndResets() {
        let clock = Clock()
        let limiter = RateLimiter(limit: RateLimit(requests: 2, intervalSeconds: 60)) { clock.now }
        XCTAssertEqual(limiter.count("a"), .init(allowed: true, reset: 1_000_060))
        clock.now += 10
        XCTAssertEqual(limiter.count("a"), .init(allowed: true, reset: 1_000_060), "the window started with the first request")
        XCTAssertFalse(limiter.count("a").allowed)
        XCTAssertTrue(limiter.count("b").allowed, "another token has its own budget")
        clock.now += 50
        XCTAssertEqual(limiter.count("a"), .init(allowed: true, reset: 1_000_120), "a new window after the interval")
        XCTAssertEqual(limiter.headers(.init(allowed: true, reset: 7)).fields.map { "\($0.name): \($0.value)" },
                       ["X-Rate-Limit-Limit: 2", "X-Rate-Limit-Interval: 60", "X-Rate-Limit-Reset: 7"])
    }

    func testAFloodOfKeysCannotGrowTheTable() {
        let clock = Clock()
        let limiter = RateLimiter(limit: RateLimit(requests: 1, intervalSeconds: 60), maxTracked: 100) { clock.now }
        for i in 0..<10_000 {
            _ = limiter.count("key\(i)")
            clock.now += 0.001
        }
        XCTAssertLessThanOrEqual(limiter.trackedCount, 100)
        XCTAssertTrue(limiter.count("fresh").allowed)
        XCTAssertFalse(limiter.count("key9999").allowed, "the newest windows are kept; the oldest make room")
        clock.now += 61
        _ = limiter.count("after")
        XCTAssertEqual(limiter.trackedCount, 1, "expired windows are dropped first")
    }
}
