import Foundation
import XCTest
@testable import Daemon
import Storage
import SystemSupport

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
