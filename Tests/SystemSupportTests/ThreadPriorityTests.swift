import Foundation
import XCTest
@testable import SystemSupport

final class ThreadPriorityTests: XCTestCase {
    /// Only the calling thread becomes nicer, never less nice, and threads it starts inherit it.
    func testLowersOnlyTheCallingThreadAndNeverRaisesIt() {
        let before = ThreadPriority.currentNice
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var seen: [Int32] = [] }
        let box = Box()
        let t = Thread {
            ThreadPriority.lower(toNice: before + 3)
            box.seen.append(ThreadPriority.currentNice)
            ThreadPriority.lower(toNice: before + 1)
            box.seen.append(ThreadPriority.currentNice)
            let child = Thread {
                box.seen.append(ThreadPriority.currentNice)
                done.signal()
            }
            child.start()
        }
        t.start()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(box.seen, [before + 3, before + 3, before + 3])
        XCTAssertEqual(ThreadPriority.currentNice, before, "the test's own thread is untouched")
    }
}
