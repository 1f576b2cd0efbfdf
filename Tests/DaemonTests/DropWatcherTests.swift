import Foundation
import XCTest
@testable import Daemon
import Storage
import SystemSupport

final class DropWatcherTests: XCTestCase {
    func testFileBecomesReadyOnlyAfterItSettles() throws {
        let root = NSTemporaryDirectory() + "tiledrop-watch-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let drop = root + "/drop"
        try FileManager.default.createDirectory(atPath: drop + "/m/grp", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: drop + "/m/existing.geojson", contents: Data("{}".utf8))
        let watcher = try DropWatcher(dropDir: drop, settleSeconds: 0.2, fileSystem: FileSystem(), logger: Logger(level: .error))
        let clock = MonotonicClock()
        try watcher.start(now: clock.now())
        XCTAssertEqual(watcher.maps, ["m"])
        XCTAssertTrue(watcher.takeReady(now: clock.now()).isEmpty, "not settled yet")
        XCTAssertEqual(watcher.takeReady(now: clock.now() + 1).map(\.name), ["existing.geojson"])

        _ = FileManager.default.createFile(atPath: drop + "/m/grp/new.gpx", contents: Data("<gpx/>".utf8))
        _ = FileManager.default.createFile(atPath: drop + "/m/skip.part", contents: Data("x".utf8))
        _ = FileManager.default.createFile(atPath: drop + "/m/empty.kml", contents: Data())
        _ = try Poller().waitReadable([watcher.fileDescriptor], timeout: 2)
        try watcher.handleEvents(now: clock.now())
        let ready = watcher.takeReady(now: clock.now() + 1)
        XCTAssertEqual(ready.map(\.name), ["new.gpx"], "temp names and empty files wait")
        XCTAssertEqual(ready.first?.group, "grp")
        XCTAssertEqual(ready.first?.map, "m")

        try FileManager.default.createDirectory(atPath: drop + "/Bad Name", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: drop + "/second", withIntermediateDirectories: true)
        _ = try Poller().waitReadable([watcher.fileDescriptor], timeout: 2)
        try watcher.handleEvents(now: clock.now())
        XCTAssertEqual(watcher.maps, ["bad-name", "m", "second"], "new map folders are watched; any name becomes a map id")

        // A second folder with the same id is refused, clearly; the first keeps the id.
        try FileManager.default.createDirectory(atPath: drop + "/BAD NAME", withIntermediateDirectories: true)
        _ = try Poller().waitReadable([watcher.fileDescriptor], timeout: 2)
        try watcher.handleEvents(now: clock.now())
        XCTAssertEqual(watcher.maps, ["bad-name", "m", "second"])
        XCTAssertTrue(watcher.warnings.values.contains { $0.contains("drop/BAD NAME and drop/Bad Name would both be map 'bad-name'") },
                      "\(watcher.warnings)")

        // A file directly in drop/ is a candidate without a map, so it can be moved to failed/.
        _ = FileManager.default.createFile(atPath: drop + "/loose.geojson", contents: Data("{}".utf8))
        _ = try Poller().waitReadable([watcher.fileDescriptor], timeout: 2)
        try watcher.handleEvents(now: clock.now())
        let loose = watcher.takeReady(now: clock.now() + 1)
        XCTAssertEqual(loose.map(\.name), ["loose.geojson"])
        XCTAssertEqual(loose.first?.isMisplaced, true)
    }
}
