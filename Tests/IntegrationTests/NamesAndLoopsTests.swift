import Foundation
import GeoModel
import Storage
import XCTest

/// Issue 8: names the old daemon retried forever or never saw, and a full disk that looped.
final class NamesAndLoopsTests: XCTestCase {
    private let point = Data("{\"type\":\"Feature\",\"properties\":{\"n\":1},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}".utf8)

    /// The map's ingest rows, read straight from `state.db`.
    private func ingests(_ harness: DaemonHarness, map: String) throws -> [IngestRecord] {
        try StateDatabase(path: harness.root + "/state.db", readOnly: true, root: harness.root).ingests(map: map)
    }

    func testA244ByteNameIsIngestedOnceWithOneRow() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        let name = String(repeating: "n", count: 236) + ".geojson" // 244 bytes; <uuid>--<name> is 282
        XCTAssertEqual(name.utf8.count, 244)
        try harness.drop(point, map: "long", name: name)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        usleep(2_500_000) // a safety scan (every 2 s here) must not find it again
        let rows = try ingests(harness, map: "long")
        XCTAssertEqual(rows.count, 1, "\(rows)")
        XCTAssertEqual(rows.first?.filename, name)
        let archived = try FileManager.default.contentsOfDirectory(atPath: harness.root + "/archive/long")
        XCTAssertEqual(archived.count, 1)
        XCTAssertTrue(archived[0].hasSuffix(".geojson") && archived[0].utf8.count <= 232, archived[0])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.root + "/drop/long").filter { !$0.hasPrefix(".") }, [])
        XCTAssertEqual(harness.stop(), 0)
    }

    func testANonUTF8NameIsIngestedOnceUnderAnEscapedName() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        let folder = harness.root + "/drop/latin"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try point.write(to: URL(fileURLWithPath: folder + "/.upload"))
        let raw: [UInt8] = Array((folder + "/caf").utf8) + [0xE9] + Array(".geojson".utf8) + [0]
        let renamed = raw.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { rename(folder + "/.upload", $0.baseAddress!) }
        }
        XCTAssertEqual(renamed, 0)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        usleep(2_500_000)
        let rows = try ingests(harness, map: "latin")
        XCTAssertEqual(rows.count, 1, "\(rows)")
        XCTAssertEqual(rows.first?.filename, "caf%E9.geojson")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.root + "/archive/latin"), ["caf%E9.geojson"])
        XCTAssertTrue(harness.log.contains("not valid UTF-8"), harness.log)
        XCTAssertEqual(harness.stop(), 0)
    }

    /// `rename(2)` from a UTF-8 path to `folder` + raw bytes `name` (which Swift strings cannot hold).
    private func renameRaw(_ from: String, toRaw name: [UInt8], in folder: String) -> Int32 {
        let raw: [UInt8] = Array((folder + "/").utf8) + name + [0]
        return raw.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { Glibc.rename(from, $0.baseAddress!) } }
    }

    /// Map and group folders whose names are not UTF-8 are renamed like files (`%XX`) and their
    /// files ingested once, whether they exist at start-up (scan) or appear later (inotify).
    func testNonUTF8MapAndGroupFoldersAreIngestedOnce() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        let drop = harness.root + "/drop"
        // Before start: drop/m\xFCnchen/ with a file and a group folder g\xE4rten/ with a file.
        let staged = harness.root + "/staged"
        try FileManager.default.createDirectory(atPath: staged + "/group", withIntermediateDirectories: true)
        try point.write(to: URL(fileURLWithPath: staged + "/a.geojson"))
        try point.write(to: URL(fileURLWithPath: staged + "/group/b.geojson"))
        XCTAssertEqual(renameRaw(staged + "/group", toRaw: Array("g".utf8) + [0xE4] + Array("rten".utf8), in: staged), 0)
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        XCTAssertEqual(renameRaw(staged, toRaw: Array("m".utf8) + [0xFC] + Array("nchen".utf8), in: drop), 0)
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 2 }, harness.log)
        // While running: a new map folder k\xF6ln/ arrives by rename with a file inside.
        try FileManager.default.createDirectory(atPath: harness.root + "/later", withIntermediateDirectories: true)
        try point.write(to: URL(fileURLWithPath: harness.root + "/later/c.geojson"))
        XCTAssertEqual(renameRaw(harness.root + "/later", toRaw: Array("k".utf8) + [0xF6] + Array("ln".utf8), in: drop), 0)
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 3 }, harness.log)
        usleep(2_500_000) // a safety scan must not ingest anything again
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: drop).sorted(), ["k%F6ln", "m%FCnchen"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: drop + "/m%FCnchen").filter { !$0.hasPrefix(".") }, ["g%E4rten"])
        let munich = try ingests(harness, map: "m-fcnchen")
        XCTAssertEqual(munich.map(\.filename).sorted(), ["a.geojson", "b.geojson"], "\(munich)")
        XCTAssertEqual(munich.first { $0.filename == "b.geojson" }?.group, "g%E4rten")
        XCTAssertEqual(try ingests(harness, map: "k-f6ln").map(\.filename), ["c.geojson"])
        XCTAssertEqual(try harness.status()["ingests"]?["completed"]?.intValue, 3)
        XCTAssertEqual(harness.stop(), 0)
    }

    func testAFullDiskBacksOffInsteadOfLooping() throws {
        let disk = try SmallFilesystem(name: "loop")
        defer { disk.cleanUp() }
        let mountPoint = disk.mountPoint
        let harness = try DaemonHarness(root: mountPoint + "/root", settleSeconds: 0.1, extraConfig: "min_free_space = 1K")
        defer { harness.cleanUp() }
        try harness.start()
        let features = (0..<6000).map { "{\"type\":\"Feature\",\"properties\":{\"n\":\($0)},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}" }
        let staging = mountPoint + "/staging.geojson"
        try Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8).write(to: URL(fileURLWithPath: staging))
        try disk.fill(leaving: 64 * 1024) // more than min_free_space, far less than the conversion needs
        try FileManager.default.createDirectory(atPath: harness.root + "/drop/full", withIntermediateDirectories: true)
        XCTAssertEqual(rename(staging, harness.root + "/drop/full/big.geojson"), 0)
        XCTAssertTrue(waitUntil(timeout: 30) { harness.log.contains("no space left") }, harness.log)
        sleep(8) // four safety scans (every 2 s)
        XCTAssertEqual(try ingests(harness, map: "full").count, 1, "one claim, then a back-off:\n\(harness.log)")
        XCTAssertEqual(harness.log.components(separatedBy: "no space left").count - 1, 1, harness.log)
        let status = try harness.status()
        XCTAssertEqual(status["paused"]?.boolValue, true)
        XCTAssertTrue(status["paused_reason"]?.stringValue?.hasPrefix("disk full: ") == true, "\(status)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/drop/full/big.geojson"), "put back, not lost")
        try disk.empty()
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        XCTAssertEqual(try ingests(harness, map: "full").count, 2)
        // The status snapshot is refreshed by the event loop, after the ingest row is committed.
        XCTAssertTrue(waitUntil(timeout: 10) { (try? harness.status())?["paused"]?.boolValue == false }, harness.log)
        XCTAssertEqual(harness.stop(), 0)
    }
}
