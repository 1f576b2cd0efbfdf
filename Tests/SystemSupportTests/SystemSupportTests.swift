import Foundation
import XCTest
@testable import SystemSupport

final class SystemSupportTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tiledrop-sys-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testInotifyReportsCloseWriteAndRename() throws {
        let inotify = try Inotify()
        let wd = try inotify.addWatch(dir, mask: [.closeWrite, .movedTo, .create])
        _ = FileManager.default.createFile(atPath: dir + "/a.txt", contents: Data("x".utf8))
        XCTAssertEqual(rename(dir + "/a.txt", dir + "/b.txt"), 0)
        let ready = try Poller().waitReadable([inotify.fileDescriptor], timeout: 2)
        XCTAssertTrue(ready.contains(inotify.fileDescriptor))
        let events = try inotify.readEvents()
        XCTAssertTrue(events.contains { $0.watch == wd && $0.name == "a.txt" && $0.mask.contains(.closeWrite) })
        XCTAssertTrue(events.contains { $0.name == "b.txt" && $0.mask.contains(.movedTo) })
        XCTAssertEqual(try inotify.readEvents(), [], "non-blocking when drained")
    }

    func testOpenRefusesSymlinksAndFIFOs() throws {
        let fs = FileSystem()
        symlink("/etc/passwd", dir + "/link")
        XCTAssertThrowsError(try fs.openRegularFileForReading(dir + "/link")) { e in
            XCTAssertEqual((e as! SystemError).errno, ELOOP)
        }
        mkfifo(dir + "/fifo", 0o644)
        XCTAssertThrowsError(try fs.openRegularFileForReading(dir + "/fifo")) { e in
            XCTAssertEqual((e as! SystemError).errno, EINVAL)
        }
        XCTAssertEqual(try fs.status(dir + "/link")?.kind, .symlink)
        XCTAssertEqual(try fs.status(dir + "/fifo")?.kind, .other)
        XCTAssertNil(try fs.status(dir + "/missing"))
    }

    func testWriteAtomicallyAndList() throws {
        let fs = FileSystem()
        try fs.createDirectories(dir + "/x/y")
        try fs.writeAtomically(dir + "/x/y/f.json", bytes: Array("{}".utf8))
        XCTAssertEqual(try fs.readFile(dir + "/x/y/f.json"), Array("{}".utf8))
        XCTAssertEqual(try fs.list(dir + "/x/y"), ["f.json"], "no temporary file left behind")
        XCTAssertGreaterThan(try fs.availableBytes(dir), 0)
        XCTAssertFalse(try fs.isRemoteFilesystem(dir))
        XCTAssertThrowsError(try fs.rename(dir + "/nope", to: dir + "/x/nope")) { e in
            XCTAssertTrue("\(e)".contains("nope"), "errors name the path")
        }
    }

    func testUnixSocketRoundTripWithPeerCredentialsAndEpoll() throws {
        let path = dir + "/s.sock"
        let listener = try ListeningSocket.listen(.unix(path: path, mode: 0o660))
        var st = stat()
        XCTAssertEqual(lstat(path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o660)
        let epoll = try Epoll()
        try epoll.add(listener.fileDescriptor, events: .readable, token: 7)
        XCTAssertEqual(try listener.accept().isNone, true, "nothing waiting yet")
        let client = try UnixSocket.connect(path: path)
        XCTAssertEqual(try epoll.wait(timeout: 2).map(\.token), [7])
        guard case .connection(let fd) = try listener.accept() else { return XCTFail("no connection") }
        defer { close(fd) }
        XCTAssertEqual(SocketIO.peerCredentials(fd)?.uid, getuid())
        try client.sendAll(Array("ping".utf8))
        var buffer = [UInt8](repeating: 0, count: 16)
        _ = try Poller().waitReadable([fd], timeout: 2)
        let n = try buffer.withUnsafeMutableBytes { try SocketIO.receive(fd, into: $0) }
        XCTAssertEqual(n, .bytes(4))
        XCTAssertEqual(try buffer.withUnsafeMutableBytes { try SocketIO.receive(fd, into: $0) }, .wouldBlock)
        client.close()
        _ = try Poller().waitReadable([fd], timeout: 2)
        XCTAssertEqual(try buffer.withUnsafeMutableBytes { try SocketIO.receive(fd, into: $0) }, .endOfStream)
        listener.close()
        XCTAssertNotEqual(lstat(path, &st), 0, "closing the listener removes the socket file")
    }

    func testTCPListenerOnAnEphemeralPortAndEventNotifier() throws {
        let listener = try ListeningSocket.listen(.tcp(host: "127.0.0.1", port: 0))
        let port = try XCTUnwrap(listener.boundPort)
        XCTAssertGreaterThan(port, 0)
        XCTAssertEqual(ListenAddress.parseTCP("127.0.0.1:8080"), .tcp(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(ListenAddress.parseTCP("[::1]:80"), .tcp(host: "::1", port: 80))
        XCTAssertNil(ListenAddress.parseTCP("8080"))
        XCTAssertNil(ListenAddress.parseTCP("host:99999"))
        let notifier = try EventNotifier()
        let epoll = try Epoll()
        try epoll.add(notifier.fileDescriptor, events: .readable, token: 1)
        XCTAssertTrue(try epoll.wait(timeout: 0).isEmpty)
        notifier.signal()
        XCTAssertEqual(try epoll.wait(timeout: 1).map(\.token), [1])
        notifier.drain()
        XCTAssertTrue(try epoll.wait(timeout: 0).isEmpty)
    }

    func testServiceNotifierSendsDatagrams() throws {
        let path = dir + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(bound, 0)
        let notifier = ServiceNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"])
        XCTAssertEqual(notifier.watchdogInterval, 4)
        XCTAssertNil(notifier.notify("READY=1\nSTATUS=ok"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, 256, 0)
        XCTAssertEqual(String(decoding: buffer.prefix(max(0, n)), as: UTF8.self), "READY=1\nSTATUS=ok")
        XCTAssertNil(ServiceNotifier(environment: [:]).notify("READY=1"), "no-op outside systemd")
    }

    func testRemoteFilesystemsAreRecognisedFromMountInfo() {
        let info = """
        22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
        40 22 0:35 / /srv/drop rw,relatime shared:20 - nfs4 server:/export rw,vers=4.2
        41 22 0:36 / /mnt/my\\040share rw - fuse.sshfs host: rw
        """
        XCTAssertEqual(FileSystem.filesystemType(of: "/srv/drop/maps/a", mountInfo: info), "nfs4")
        XCTAssertEqual(FileSystem.filesystemType(of: "/srv/dropbox", mountInfo: info), "ext4")
        XCTAssertEqual(FileSystem.filesystemType(of: "/mnt/my share/x", mountInfo: info), "fuse.sshfs")
        XCTAssertTrue(FileSystem.isRemote(type: "nfs4"))
        XCTAssertTrue(FileSystem.isRemote(type: "fuse.sshfs"))
        XCTAssertFalse(FileSystem.isRemote(type: "ext4"))
        XCTAssertFalse(FileSystem.isRemote(type: "tmpfs"))
    }
}

/// `Subprocess`: exit status, captured and truncated output, deadlines that kill the group.
final class SubprocessTests: XCTestCase {
    func testCapturesOutputAndStatus() throws {
        let r = try Subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 4"], timeout: 10)
        XCTAssertEqual(r.exitStatus, 4)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(String(decoding: r.output, as: UTF8.self), "out\nerr\n")
        XCTAssertTrue(try Subprocess.run(["true"], timeout: 10).succeeded, "argv[0] is looked up in PATH")
    }

    func testOutputIsTruncatedNotBlocking() throws {
        let r = try Subprocess.run(["/bin/sh", "-c", "head -c 300000 /dev/zero"], timeout: 20, maxOutput: 100)
        XCTAssertEqual(r.exitStatus, 0)
        XCTAssertEqual(r.output.count, 100)
        XCTAssertEqual(r.droppedBytes, 300_000 - 100)
    }

    func testDeadlineKillsTheProcessGroup() throws {
        let start = Date()
        let r = try Subprocess.run(["/bin/sh", "-c", "sleep 30 & sleep 30"], timeout: 0.5)
        XCTAssertTrue(r.timedOut)
        XCTAssertNil(r.exitStatus)
        XCTAssertEqual(r.signal, SIGTERM)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertThrowsError(try Subprocess.run(["/nonexistent/program"], timeout: 1))
    }
}

extension AcceptResult {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}
