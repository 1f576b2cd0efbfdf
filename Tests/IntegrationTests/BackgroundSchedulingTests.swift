import Foundation
import XCTest

/// `background_scheduling = idle` (the default) against the real binary: the threads that
/// convert and publish run under Linux `SCHED_IDLE`, the HTTP server's threads never do, so
/// tile reads preempt a publish at once.
final class BackgroundSchedulingTests: XCTestCase {
    /// `SCHED_IDLE` (sched(7)).
    private static let idlePolicy = 5

    /// Each thread of `pid`: its name (`comm`) and scheduling policy (proc(5) `stat` field 41).
    private func threads(_ pid: Int32) -> [(name: String, policy: Int)] {
        let dir = "/proc/\(pid)/task"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap { tid in
            guard let stat = try? String(contentsOfFile: "\(dir)/\(tid)/stat", encoding: .utf8),
                  let comm = try? String(contentsOfFile: "\(dir)/\(tid)/comm", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let policy = Int(fields[38]) else { return nil }
            return (comm.trimmingCharacters(in: .whitespacesAndNewlines), policy)
        }
    }

    func testIngestAndPublishRunUnderSchedIdleAndTheServerNever() throws {
        // Later keys win: this undoes the harness's `background_scheduling = nice`.
        let harness = try DaemonHarness(extraConfig: "background_scheduling = idle")
        defer { harness.cleanUp() }
        try harness.start()
        let pid = try XCTUnwrap(harness.process?.processIdentifier)
        XCTAssertFalse(threads(pid).contains { $0.policy == Self.idlePolicy }, "nothing is in the background before any work")
        try harness.drop(Data(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#.utf8),
                         map: "idle", name: "a.geojson")
        // The worker thread keeps its policy after the job (it is never raised again), so
        // polling until it is seen does not race the job's end.
        var seen: [String] = []
        XCTAssertTrue(waitUntil(timeout: 120) {
            seen = threads(pid).filter { $0.policy == Self.idlePolicy }.map(\.name)
            return !seen.isEmpty
        }, harness.log)
        XCTAssertTrue(waitUntil(timeout: 120) { (try? harness.status())?["jobs"]?["success"]?.intValue == 1 }, harness.log)
        let server = threads(pid).filter { $0.name.hasPrefix("http-") }
        XCTAssertFalse(server.isEmpty, "the server's threads are named http-loop, http-read-N, http-long-N")
        for t in server { XCTAssertEqual(t.policy, 0, "\(t.name) stays SCHED_OTHER") }
        XCTAssertEqual(harness.stop(), 0)
    }
}
