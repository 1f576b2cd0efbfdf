import Foundation
import GeoModel
import SystemSupport
import XCTest

/// Issue 8 ("the status socket") against the real binary: a trickling client and a flood of
/// held connections cost their own connections, never the status answers, a core, or a drop.
final class ServerLoadTests: XCTestCase {
    private func point(_ name: String) -> Data {
        Data(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"\#(name)"},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#.utf8)
    }

    /// utime + stime of `pid` in seconds (proc(5) fields 14 and 15).
    private func cpuSeconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
    }

    /// Seconds one `GET /v1/status` takes on a fresh connection.
    private func timedStatus(_ harness: DaemonHarness) throws -> Double {
        let started = Date()
        let socket = try UnixSocket.connect(path: harness.root + "/tiledrop.sock", timeoutSeconds: 10)
        try socket.sendAll(Array("GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        var bytes: [UInt8] = []
        while true {
            let chunk = try socket.receive()
            if chunk.isEmpty { break }
            bytes += chunk
        }
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200 "))
        return Date().timeIntervalSince(started)
    }

    func testASlowClientDelaysNobody() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        let slow = try UnixSocket.connect(path: harness.root + "/tiledrop.sock", timeoutSeconds: 30)
        let request = Array("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        // One byte every 2 s; meanwhile others ask for the status.
        for i in 0..<4 {
            try slow.sendAll([request[i]])
            for _ in 0..<3 { XCTAssertLessThan(try timedStatus(harness), 1.0) }
            sleep(2)
        }
        // The head deadline (10 s for the whole head, not per byte) ends the trickle with 408.
        try? slow.sendAll([request[4]])
        var answer: [UInt8] = []
        while let chunk = try? slow.receive(), !chunk.isEmpty { answer += chunk }
        XCTAssertTrue(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 408 "), String(decoding: answer, as: UTF8.self))
        XCTAssertEqual(harness.stop(), 0)
    }

    func testHeldConnectionsUnderALowDescriptorLimit() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start(descriptorLimit: 1024)
        let pid = try XCTUnwrap(harness.process?.processIdentifier)
        // 1,500 connections that never send a byte (non-blocking connects; a full backlog is retried).
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in (harness.root + "/tiledrop.sock").utf8.enumerated() { raw[i] = b } }
        let deadline = Date().addingTimeInterval(20)
        while held.count < 1500 && Date() < deadline {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            XCTAssertGreaterThanOrEqual(fd, 0)
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            if rc == 0 {
                held.append(fd)
            } else {
                close(fd)
                usleep(2_000)
            }
        }
        XCTAssertEqual(held.count, 1500, "the daemon keeps accepting (closing the longest idle) instead of stalling")
        let cpuBefore = cpuSeconds(pid)
        for _ in 0..<5 { XCTAssertLessThan(try timedStatus(harness), 2.0) }
        sleep(3)
        let cpu = cpuSeconds(pid) - cpuBefore
        XCTAssertLessThan(cpu, 1.0, "no spin while the connections are held (CPU \(cpu) s in ~3 s)")
        try harness.drop(point("held"), map: "busy", name: "p.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        XCTAssertEqual(harness.stop(), 0)
    }
}
