import Foundation
import XCTest

/// A 6 MB tmpfs for disk-full tests: mounted on creation (skipping the test where that is not
/// possible), filled on request, unmounted by `cleanUp()`.
final class SmallFilesystem {
    let mountPoint: String

    init(name: String) throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a small tmpfs needs root") }
        mountPoint = NSTemporaryDirectory() + "tiledrop-\(name)-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try DaemonHarness.runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mountPoint])
        guard mount.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mount.output)") }
    }

    /// Writes `mountPoint/filler` until the filesystem is full, then frees `leaving` bytes of it.
    func fill(leaving: Int = 0) throws {
        let filler = mountPoint + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: filler))
        let block = Data(repeating: 0x41, count: 16 * 1024)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        if leaving > 0 { _ = try DaemonHarness.runTool("/usr/bin/truncate", ["-s", "-\(leaving)", filler]) }
    }

    /// Frees the space `fill` took.
    func empty() throws { try FileManager.default.removeItem(atPath: mountPoint + "/filler") }

    func cleanUp() {
        _ = try? DaemonHarness.runTool("/bin/umount", ["-l", mountPoint])
        try? FileManager.default.removeItem(atPath: mountPoint)
    }
}
