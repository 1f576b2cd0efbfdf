import Foundation
import GeoModel
import Storage
import XCTest
@testable import Daemon

/// Issue 8 (d): running out of file descriptors (EMFILE) pauses ingestion instead of failing
/// good files; the status says why; once descriptors are available again every file is ingested.
final class DescriptorLimitTests: XCTestCase {
    private func feature(_ n: Int) -> Data {
        Data("{\"type\":\"Feature\",\"properties\":{\"n\":\(n)},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(Double(n) / 10),2]}}".utf8)
    }

    private func openDescriptors(_ pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    /// `prlimit --pid PID --nofile=SOFT:HARD` on the running daemon.
    private func setDescriptorLimit(_ pid: Int32, soft: Int, hard: String) throws {
        let r = try DaemonHarness.runTool("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(soft):\(hard)"])
        XCTAssertEqual(r.status, 0, r.output)
    }

    func testRunningOutOfDescriptorsPausesIngestionAndLosesNothing() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else { throw XCTSkip("prlimit (util-linux) is not installed") }
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        let pid = harness.process!.processIdentifier
        // Warm up: one ingest and its publish open everything the daemon keeps open.
        try harness.drop(feature(0), map: "fds", name: "f0.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) {
            (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 && (try? harness.status())?["jobs"]?["success"]?.intValue == 1
        }, harness.log)
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let hard = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first.map(String.init) ?? "unlimited"
        // The descriptors the idle daemon keeps: the fewest seen over a second, so that a status
        // connection still closing is not counted.
        var idle = Int.max
        for _ in 0..<10 {
            idle = min(idle, openDescriptors(pid))
            usleep(100_000)
        }

        // One descriptor to spare: enough to answer the status, not to read a file and write its source.
        try setDescriptorLimit(pid, soft: idle + 1, hard: hard)
        let count = 30
        for i in 1...count { try harness.drop(feature(i), map: "fds", name: "f\(i).geojson") }
        var paused: String?
        XCTAssertTrue(waitUntil(timeout: 60) {
            paused = (try? harness.status())?["paused_reason"]?.stringValue
            return paused?.contains("Too many open files") == true
        }, "status never said why ingestion paused; log:\n\(harness.log.suffix(4000))")
        XCTAssertTrue(paused?.contains("ingestion resumes in") == true, paused ?? "")

        try setDescriptorLimit(pid, soft: 1024, hard: hard)
        // Each failed retry doubles the back-off (DiskPause, up to 300 s): on a loaded machine the
        // status may be seen only after several retries failed, so ingestion may resume only
        // minutes later. Wait for that, not for a typical case.
        XCTAssertTrue(waitUntil(timeout: DiskPause.maxDelay + 60) { (try? harness.status())?["ingests"]?["completed"]?.intValue == count + 1 },
                      "paused: \(paused ?? "-"); log:\n\(harness.log.suffix(4000))")
        let status = try harness.status()
        XCTAssertEqual(status["ingests"]?["failed"]?.intValue, 0, "\(status)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.root + "/drop/fds").filter { !$0.hasPrefix(".") }, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/failed/fds"))
        // Every feature is in the source exactly once.
        let sources = try StateDatabase(path: harness.root + "/state.db", readOnly: true, root: harness.root).sourceFiles(map: "fds")
        let lines = try sources.flatMap { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n") }
        XCTAssertEqual(lines.count, count + 1)
        XCTAssertTrue(waitUntil(timeout: 10) { (try? harness.status())?["paused"]?.boolValue == false })
        XCTAssertEqual(harness.stop(), 0)
    }
}
