import Foundation
import GeoModel
import XCTest

/// Issue 8: the root spelled differently loses nothing; the start-up sweep never deletes.
final class RootAndSweepTests: XCTestCase {
    private func points(_ tag: Int, count: Int) -> Data {
        let features = (0..<count).map { i in
            "{\"type\":\"Feature\",\"properties\":{\"tag\":\(tag),\"i\":\(i)},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(Double(tag * 10 + i) * 0.5 - 90),\(Double(i) * 0.3)]}}"
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    private func sourceFeatureCount(_ root: String, map: String) -> Int {
        let folder = root + "/sources/" + map
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { !$0.hasPrefix(".") }.reduce(0) { total, name in
            total + ((try? String(contentsOfFile: folder + "/" + name, encoding: .utf8))?.split(separator: "\n").count ?? 0)
        }
    }

    func testRootSpelledFourWaysAcrossRestartsLosesNoFeature() throws {
        let parent = NSTemporaryDirectory() + "tiledrop-spell-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let harness = try DaemonHarness(root: parent + "/R", settleSeconds: 0.1)
        harness.workingDirectory = parent
        defer {
            harness.cleanUp()
            try? FileManager.default.removeItem(atPath: parent)
        }
        var expected = 0
        for (run, spelling) in ["./R", "R", "R/", parent + "/R", "./R"].enumerated() {
            harness.rootArgument = spelling
            try harness.start()
            try harness.drop(points(run, count: run + 2), map: "spell", name: "run\(run).geojson")
            expected += run + 2
            XCTAssertTrue(waitUntil(timeout: 30) {
                let s = try? harness.status()
                return s?["ingests"]?["completed"]?.intValue == run + 1 && s?["jobs"]?["success"]?.intValue == run + 1
            }, "run \(run) (--root \(spelling)):\n\(harness.log)")
            XCTAssertEqual(sourceFeatureCount(harness.root, map: "spell"), expected, "run \(run) (--root \(spelling)) lost features:\n\(harness.log)")
            XCTAssertEqual((try harness.status())["root"]?.stringValue, URL(fileURLWithPath: harness.root).resolvingSymlinksInPath().path)
            XCTAssertEqual(harness.stop(), 0)
        }
        XCTAssertFalse(harness.log.contains("removing"), harness.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/quarantine/spell"), "nothing was unreferenced")
    }

    func testUnreferencedSourcesAreQuarantinedAndAMismatchedFolderIsLeftAlone() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points(1, count: 3), map: "kept", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        XCTAssertEqual(harness.stop(), 0)
        // A stray file beside the committed source, and a map folder state.db knows nothing about.
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: harness.root + "/sources/kept/stray.geojsonl"))
        try FileManager.default.createDirectory(atPath: harness.root + "/sources/unknown", withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: harness.root + "/sources/unknown/x.geojsonl"))
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: harness.root + "/quarantine/kept/stray.geojsonl") }, harness.log)
        XCTAssertEqual(sourceFeatureCount(harness.root, map: "kept"), 3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/sources/unknown/x.geojsonl"), "a folder the records do not describe is never touched")
        XCTAssertTrue(waitUntil(timeout: 10) {
            ((try? harness.status())?["warnings"]?.arrayValue ?? []).contains { $0.stringValue?.contains("source sweep refused for map unknown") == true }
        }, "\(String(describing: try? harness.status()))")
        XCTAssertEqual(harness.stop(), 0)
    }

    func testDropFolderMovedAwayIsAwaitedNotRecreated() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points(1, count: 2), map: "m", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        let drop = harness.root + "/drop", away = harness.root + "/drop.away"
        XCTAssertEqual(rename(drop, away), 0)
        XCTAssertTrue(waitUntil(timeout: 10) {
            ((try? harness.status())?["warnings"]?.arrayValue ?? []).contains { $0.stringValue?.contains("was moved away") == true }
        }, harness.log)
        // A file dropped into the moved tree meanwhile is not ingested from there…
        try points(2, count: 3).write(to: URL(fileURLWithPath: away + "/m/b.geojson"))
        sleep(3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: drop), "drop/ must not be re-created under the user moving it")
        XCTAssertEqual((try harness.status())["ingests"]?["completed"]?.intValue, 1)
        // …but once drop/ is back it is watched again and the file lands in its own map.
        XCTAssertEqual(rename(away, drop), 0)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 2 }, harness.log)
        XCTAssertEqual(sourceFeatureCount(harness.root, map: "m"), 5)
        XCTAssertFalse(((try harness.status())["warnings"]?.arrayValue ?? []).contains { $0.stringValue?.contains("moved away") == true })
        XCTAssertEqual(harness.stop(), 0)
    }

    func testGroupFoldersOfARejectedMapAreNotIngestedByInotifyOrByScans() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        try FileManager.default.createDirectory(atPath: harness.root + "/drop/Bad Name", withIntermediateDirectories: true)
        XCTAssertTrue(waitUntil(timeout: 10) { (try? harness.status())?["maps"]?.arrayValue?.contains(.string("bad-name")) == true }, harness.log)
        // A second folder with the same map id is rejected; neither its files nor its groups' are ingested.
        try harness.drop(points(1, count: 2), map: "BAD NAME", name: "top.geojson", group: "grp")
        try harness.drop(points(2, count: 2), map: "BAD NAME", name: "direct.geojson")
        sleep(5) // two safety scans (every 2 s here) as well as the inotify events
        XCTAssertEqual((try harness.status())["ingests"]?["completed"]?.intValue, 0, harness.log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/drop/BAD NAME/grp/top.geojson"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/drop/BAD NAME/direct.geojson"))
        XCTAssertEqual(harness.stop(), 0)
    }
}
