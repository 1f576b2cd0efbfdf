import Foundation
import XCTest
@testable import SystemSupport

/// Issue 8: files are created with openat + O_EXCL | O_NOFOLLOW; links are never written through.
final class DirectoryTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tiledrop-dir-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A symlink planted at the root's lock name is refused, and its target is not truncated.
    func testFileLockRefusesASymlink() throws {
        let victim = dir + "/state.db"
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(victim, dir + "/tiledrop.lock"), 0)
        XCTAssertThrowsError(try FileLock(path: dir + "/tiledrop.lock")) { XCTAssertEqual(($0 as? SystemError)?.errno, ELOOP) }
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep")
        XCTAssertNil(FileLock.holder(of: dir + "/tiledrop.lock"))
        let lock = try FileLock(path: dir + "/real.lock")
        XCTAssertEqual(FileLock.holder(of: lock.path), getpid())
    }

    func testCreateNeverFollowsOrTruncates() throws {
        let victim = dir + "/victim"
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(victim, dir + "/link"), 0)
        let d = try Directory(dir)
        XCTAssertThrowsError(try d.createFile("link")) { XCTAssertEqual(($0 as? SystemError)?.errno, EEXIST) }
        XCTAssertThrowsError(try d.createFile("victim")) { XCTAssertEqual(($0 as? SystemError)?.errno, EEXIST) }
        let fd = try d.createFile("link", replacingStale: true)
        try FileSystem.writeAll(fd, Array("new".utf8), target: "link")
        close(fd)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep")
        XCTAssertEqual(try FileSystem().status(dir + "/link")?.kind, .regular, "the link itself was replaced")
    }

    /// Devices and FIFOs are never unlinked to make room; outputs open them instead.
    func testDevicesAreNeverReplaced() throws {
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o600), 0)
        XCTAssertThrowsError(try Directory(dir).createFile("fifo", replacingStale: true)) { XCTAssertEqual(($0 as? SystemError)?.errno, EEXIST) }
        XCTAssertEqual(try FileSystem().status(dir + "/fifo")?.kind, .other)
        if access("/dev/null", W_OK) == 0 {
            let fd = try FileSystem().openOutput("/dev/null")
            close(fd)
            XCTAssertEqual(try FileSystem().status("/dev/null")?.kind, .other, "/dev/null is still the device")
        }
    }

    func testWriteAtomicallyReplacesAPlantedTemporaryLink() throws {
        let victim = dir + "/victim"
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink(victim, dir + "/.report.json.tmp"), 0)
        XCTAssertEqual(symlink(victim, dir + "/report.json"), 0)
        try FileSystem().writeAtomically(dir + "/report.json", bytes: Array("{}".utf8))
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep")
        XCTAssertEqual(try String(contentsOfFile: dir + "/report.json", encoding: .utf8), "{}")
        XCTAssertEqual(try FileSystem().status(dir + "/report.json")?.kind, .regular)
        XCTAssertNil(try FileSystem().status(dir + "/.report.json.tmp"))
    }

    func testWriteAllWritesLargeBuffersWhole() throws {
        let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileSystem().writeSynced(dir + "/big") { fd throws(SystemError) in try FileSystem.writeAll(fd, bytes, target: "big") }
        XCTAssertEqual(try FileSystem().readFile(dir + "/big"), bytes)
    }
}
