import Foundation
import XCTest
@testable import Daemon
import Storage
import SystemSupport
import Formats

final class DiskSpaceTests: XCTestCase {
    func testRecognisesFullDisksFromEveryModule() {
        XCTAssertTrue(DiskSpace.isExhaustion(SystemError(call: "write", errno: ENOSPC)))
        XCTAssertTrue(DiskSpace.isExhaustion(SystemError(call: "write", errno: EDQUOT)))
        XCTAssertTrue(DiskSpace.isExhaustion(StorageError.sqlite(path: "x", code: 13, message: "full")))
        XCTAssertTrue(DiskSpace.isExhaustion(DaemonError.system(SystemError(call: "fsync", errno: ENOSPC))))
        XCTAssertFalse(DiskSpace.isExhaustion(SystemError(call: "open", errno: ENOENT)))
        XCTAssertFalse(DiskSpace.isExhaustion(StorageError.sqlite(path: "x", code: 1, message: "syntax")))
        XCTAssertFalse(DiskSpace.isExhaustion(DaemonError.other("bad file")))
    }
}

final class DiskPauseTests: XCTestCase {
    func testBackOffDoublesUpToTheCapAndWaitsForSpaceToGrow() {
        var pause = DiskPause.after(previousDelay: nil, now: 100, free: 5000, needed: 9000)
        XCTAssertEqual(pause.delay, DiskPause.firstDelay)
        XCTAssertFalse(pause.allowsRetry(now: 101, free: 9999, minimum: 0), "before the delay")
        XCTAssertFalse(pause.allowsRetry(now: 200, free: 5000, minimum: 0), "space has not grown")
        XCTAssertFalse(pause.allowsRetry(now: 200, free: 6000, minimum: 7000), "grown but still below min_free_space")
        XCTAssertTrue(pause.allowsRetry(now: 200, free: 6000, minimum: 0))
        for _ in 0..<20 { pause = DiskPause.after(previousDelay: pause.delay, now: 0, free: 1, needed: 2) }
        XCTAssertEqual(pause.delay, DiskPause.maxDelay)
        XCTAssertTrue(pause.reason(root: "/r").hasPrefix("disk full: 1 bytes free under /r, need 2"))
    }

    func testLongNamesAreShortenedKeepingTheExtension() {
        let name = String(repeating: "é", count: 130) + ".geojson"
        let fitted = DaemonPaths.fitted(name, maxBytes: 232)
        XCTAssertLessThanOrEqual(fitted.utf8.count, 232)
        XCTAssertTrue(fitted.hasSuffix(".geojson"))
        XCTAssertEqual(DaemonPaths.fitted("short.kml", maxBytes: 232), "short.kml")
        XCTAssertEqual(RawNames.escaped([0x63, 0x61, 0x66, 0xE9, 0x25, 0x2E, 0x6B]), "caf%E9%25.k")
    }
}

final class TemporaryErrorTests: XCTestCase {
    func testDescriptorExhaustionAndIOErrorsAreTemporaryButBadDataIsNot() {
        XCTAssertTrue(DiskSpace.isTemporary(SystemError(call: "open", errno: EMFILE)))
        XCTAssertTrue(DiskSpace.isTemporary(FormatError.io(file: "a.kml", operation: "open", errno: ENFILE)))
        XCTAssertTrue(DiskSpace.isTemporary(DaemonError.system(SystemError(call: "read", errno: EIO))))
        XCTAssertFalse(DiskSpace.isTemporary(SystemError(call: "open", errno: ENOENT)))
        XCTAssertFalse(DiskSpace.isTemporary(DaemonError.other("bad file")))
        var pause = DiskPause.after(previousDelay: nil, now: 0, free: 100, needed: 200)
        pause.temporary = "a temporary system error (EMFILE)"
        XCTAssertTrue(pause.allowsRetry(now: 3, free: 100, minimum: 0), "a temporary pause needs only time, not space")
        XCTAssertTrue(pause.reason(root: "/r").contains("resumes in 2 s"))
    }
}
