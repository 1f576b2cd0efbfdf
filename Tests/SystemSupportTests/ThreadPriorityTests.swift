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

    /// `enter` puts only the calling thread under SCHED_IDLE (and the nice value), its new
    /// threads inherit both, and `idle: false` leaves the policy alone.
    func testEnterBackgroundSetsIdlePolicyOnTheCallingThreadOnly() {
        let before = ThreadPriority.currentNice
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var seen: [String] = [] }
        let box = Box()
        let plain = Thread {
            box.seen.append("nice-only \(ThreadPriority.enter(.init(nice: before + 2, idle: false))) \(ThreadPriority.isIdle) \(ThreadPriority.currentNice - before)")
            let idle = Thread {
                box.seen.append("idle \(ThreadPriority.enter(.init(nice: before + 1, idle: true))) \(ThreadPriority.isIdle) \(ThreadPriority.currentNice - before)")
                let child = Thread {
                    box.seen.append("child \(ThreadPriority.isIdle) \(ThreadPriority.currentNice - before)")
                    box.seen.append("left \(ThreadPriority.leaveIdle()) \(ThreadPriority.isIdle)")
                    done.signal()
                }
                child.start()
            }
            idle.start()
        }
        plain.start()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(box.seen, ["nice-only true false 2", "idle true true 2", "child true 2",
                                  // Leaving SCHED_IDLE needs CAP_SYS_NICE (or a nice value within RLIMIT_NICE).
                                  getuid() == 0 ? "left true false" : "left false true"])
        XCTAssertFalse(ThreadPriority.isIdle, "the test's own thread is untouched")
        XCTAssertEqual(ThreadPriority.currentNice, before)
    }
}
