import Foundation
import XCTest
@testable import Daemon
import Storage
import SystemSupport

final class DaemonConfigTests: XCTestCase {
    func testParsesKeysAndRejectsTyposWithTheLine() throws {
        let path = NSTemporaryDirectory() + "tiledrop-conf-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# comment\nroot = /srv/td\nsettle_seconds = 0.5  # inline\nmax_file_size = 15M\nafter_success = delete\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try DaemonConfig.load(path: path, rootOverride: nil)
        XCTAssertEqual(c.root, "/srv/td")
        XCTAssertEqual(c.settleSeconds, 0.5)
        XCTAssertEqual(c.maxFileBytes, 15_000_000)
        XCTAssertEqual(c.afterSuccess, "delete")
        XCTAssertEqual(c.socketPath, "/srv/td/tiledrop.sock")
        XCTAssertEqual(try DaemonConfig.load(path: path, rootOverride: "/other").root, "/other")

        try "settle_seconds = 1\nsetle_seconds = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonConfig.load(path: path, rootOverride: nil)) { e in
            XCTAssertTrue("\(e)".contains(":2:"), "\(e)")
            XCTAssertTrue("\(e)".contains("setle_seconds"))
        }
        try "listen = 127.0.0.1:8080, [::1]:9090\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try DaemonConfig.load(path: path, rootOverride: nil).listen, [.tcp(host: "127.0.0.1", port: 8080), .tcp(host: "::1", port: 9090)])
        try "listen = 8080\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonConfig.load(path: path, rootOverride: nil))
        try "max_file_size = lots\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonConfig.load(path: path, rootOverride: nil))
    }

    func testTilingMemoryBudget() throws {
        let path = NSTemporaryDirectory() + "tiledrop-conf-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(DaemonConfig().tilingMemory, 256_000_000, "the default budget")
        try "tiling_memory = 1G\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try DaemonConfig.load(path: path, rootOverride: nil).tilingMemory, 1_000_000_000)
        try "tiling_memory = 4M\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonConfig.load(path: path, rootOverride: nil)) { e in
            XCTAssertTrue("\(e)".contains("tiling_memory must be at least 32M"), "\(e)")
        }
    }

    func testBackgroundScheduling() throws {
        let path = NSTemporaryDirectory() + "tiledrop-conf-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(DaemonConfig().background, ThreadPriority.Background(nice: 10, idle: true), "SCHED_IDLE and nice 10 by default")
        try "background_scheduling = nice\nbackground_nice = 15\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try DaemonConfig.load(path: path, rootOverride: nil).background, ThreadPriority.Background(nice: 15, idle: false))
        try "background_scheduling = lazy\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonConfig.load(path: path, rootOverride: nil)) { e in
            XCTAssertTrue("\(e)".contains("background_scheduling must be idle"), "\(e)")
        }
    }
}
