import Foundation
import XCTest

/// Issue 5: the shipped unit is hardened (exposure ≤ 1.5) and declares what the README says.
final class ServiceUnitTests: XCTestCase {
    private var unitPath: String { DaemonHarness.repositoryRoot + "/systemd/tiledrop.service" }

    func testSystemdAnalyzeSecurityExposureIsAtMost1_5() throws {
        let analyzer = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let analyzer else { throw XCTSkip("systemd-analyze is not installed; install the 'systemd' package to check the unit") }
        let text = try DaemonHarness.runTool(analyzer, ["security", "--offline=yes", "--no-pager", unitPath]).output
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("Overall exposure level") }, text)
        let number = line.split(separator: " ").compactMap { Double($0) }.first
        let exposure = try XCTUnwrap(number, String(line))
        print("systemd-analyze security: \(line)")
        XCTAssertLessThanOrEqual(exposure, 1.5)
    }

    func testSystemdAnalyzeVerifyAcceptsTheUnit() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            throw XCTSkip("systemd-analyze is not installed")
        }
        let dir = NSTemporaryDirectory() + "tiledrop-unit-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // verify checks that ExecStart exists: point it at the binary under test.
        let unit = try String(contentsOfFile: unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/tiledrop", with: DaemonHarness.binary)
        try unit.write(toFile: dir + "/tiledrop.service", atomically: true, encoding: .utf8)
        let (status, text) = try DaemonHarness.runTool("/usr/bin/systemd-analyze", ["verify", dir + "/tiledrop.service"])
        XCTAssertEqual(status, 0, text)
        XCTAssertFalse(text.contains("tiledrop.service:"), "no complaints about the unit: \(text)")
    }

    func testUnitIsTypeNotifyWithStateAndRuntimeDirectories() throws {
        let unit = try String(contentsOfFile: unitPath, encoding: .utf8)
        for directive in ["Type=notify", "User=tiledrop", "StateDirectory=tiledrop", "RuntimeDirectory=tiledrop",
                          "ConfigurationDirectory=tiledrop", "WatchdogSec=", "ExecReload=", "--config /etc/tiledrop/tiledrop.conf", "LimitNOFILE=65536"] {
            XCTAssertTrue(unit.contains(directive), directive)
        }
        let sysusers = try String(contentsOfFile: DaemonHarness.repositoryRoot + "/systemd/tiledrop.sysusers", encoding: .utf8)
        XCTAssertTrue(sysusers.contains("u tiledrop"))
        let tmpfiles = try String(contentsOfFile: DaemonHarness.repositoryRoot + "/systemd/tiledrop.tmpfiles", encoding: .utf8)
        for folder in ["drop    ", "recipes ", "failed  "] {
            XCTAssertTrue(tmpfiles.contains("d /var/lib/tiledrop/\(folder) 3770"), "setgid, sticky, group-writable \(folder)")
        }
        XCTAssertTrue(tmpfiles.contains("a+ /var/lib/tiledrop/drop     - - - - default:group:tiledrop:rwx"), "default ACL: new map folders stay writable for the daemon")
    }

    func testShippedExampleConfigIsValid() throws {
        let example = DaemonHarness.repositoryRoot + "/etc/tiledrop/tiledrop.conf"
        let root = NSTemporaryDirectory() + "tiledrop-conf-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: root) }
        // `status` loads the config before connecting: a bad config exits 78, a good one 69 (no daemon).
        let r = try DaemonHarness.run(["status", "--config", example, "--socket", root + "/none.sock"])
        XCTAssertEqual(r.status, 69, r.stderr)
        let bad = root + ".conf"
        try "settle = 3\n".write(toFile: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let r2 = try DaemonHarness.run(["run", "--config", bad, "--root", root])
        XCTAssertEqual(r2.status, 78)
        XCTAssertTrue(r2.stderr.contains(":1:") && r2.stderr.contains("settle"), r2.stderr)
    }
}
