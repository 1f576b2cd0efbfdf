import Foundation
import GeoModel
import XCTest

/// Issue 5: nothing lost, nothing duplicated, whatever crashes; hostile input never hurts.
final class DurabilityTests: XCTestCase {
    /// A small FeatureCollection whose features carry `file` and `n` so the source can be audited.
    private func collection(file: Int, count: Int) -> Data {
        let features = (0..<count).map { n in
            "{\"type\":\"Feature\",\"properties\":{\"file\":\(file),\"n\":\(n)},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(Double(file % 300) - 150 + Double(n) * 0.001),\(Double(n % 80) - 40)]}}"
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    /// Every (file, n) pair in the map's committed source files.
    private func sourcePairs(_ harness: DaemonHarness, map: String) throws -> [String] {
        let folder = harness.root + "/sources/" + map
        var pairs: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".geojsonl") && !name.hasPrefix(".") {
            for line in try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n") {
                let f = try JSONParser.parse(String(line))
                pairs.append("\(f["properties"]?["file"]?.intValue ?? -1)/\(f["properties"]?["n"]?.intValue ?? -1)")
            }
        }
        return pairs
    }

    func testRepeatedSIGKILLLosesAndDuplicatesNothing() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        let files = 24
        let perFile = 400
        var dropped = 0
        for round in 0..<6 {
            try harness.start()
            for _ in 0..<(files / 6) {
                try harness.drop(collection(file: dropped, count: perFile), map: "crash", name: "f\(dropped).geojson")
                dropped += 1
            }
            usleep(UInt32(100_000 + round * 70_000))
            harness.crash()
        }
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 90) {
            guard let s = try? harness.status() else { return false }
            return s["ingests"]?["completed"]?.intValue == files && s["ingests"]?["processing"]?.intValue == 0
                && s["jobs"]?["queued"]?.intValue == 0 && s["jobs"]?["processing"]?.intValue == 0
        }, "status: \(String(describing: try? harness.status())); log:\n\(harness.log.suffix(4000))")
        let log = harness.log
        print("SIGKILL test: \(log.components(separatedBy: "resuming").count - 1) ingests resumed, \(log.components(separatedBy: "publish job").count - 1) publish log lines")
        let pairs = try sourcePairs(harness, map: "crash")
        XCTAssertEqual(pairs.count, files * perFile, "every feature exactly once")
        XCTAssertEqual(Set(pairs).count, pairs.count, "no duplicates")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.root + "/archive/crash").count, files)
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/tiles/crash.mbtiles"))
        XCTAssertEqual((try harness.status())["jobs"]?["failed"]?.intValue, 0, harness.log.split(separator: "\n").filter { $0.contains("failed") }.joined(separator: "\n"))
        XCTAssertEqual(harness.stop(), 0)
    }

    /// Installs a small v1 tileset for map `w`, then drops the world so a slow z0–9 publish of
    /// `w` is running when this returns. Returns v1's bytes.
    private func startSlowPublish(_ harness: DaemonHarness) throws -> Data {
        let countries = DaemonHarness.fixtures + "/real/ne_110m_admin_0_countries.json"
        guard let world = FileManager.default.contents(atPath: countries) else {
            throw XCTSkip("fixture \(countries) not found (set TILEDROP_FIXTURES)")
        }
        try harness.start()
        let work = harness.root + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try collection(file: 1, count: 5).write(to: URL(fileURLWithPath: work + "/p.geojson"))
        try #"{"version":1,"layers":{"w":{"source":"p.geojson","minzoom":0,"maxzoom":2}}}"#.write(toFile: work + "/r.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try harness.cli(["publish", work + "/r.json", "-o", work + "/v1.mbtiles"]).status, 0)
        let v1 = try Data(contentsOf: URL(fileURLWithPath: work + "/v1.mbtiles"))
        try harness.drop(v1, map: "w", name: "v1.mbtiles")
        let tileset = harness.root + "/tiles/w.mbtiles"
        XCTAssertTrue(waitUntil(timeout: 20) { FileManager.default.contents(atPath: tileset) == v1 })
        try harness.drop(world, map: "w", name: "world.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["jobs"]?["processing"]?.intValue == 1 }, harness.log)
        usleep(1_500_000)
        return v1
    }

    func testSIGTERMDuringAPublishExitsPromptlyAndCleanly() throws {
        // The default recipe at z9 takes tens of seconds in a debug build.
        let harness = try DaemonHarness(extraConfig: "default_maxzoom = 9")
        defer { harness.cleanUp() }
        let v1 = try startSlowPublish(harness)
        let started = Date()
        XCTAssertEqual(harness.stop(), 0, "SIGTERM mid-publish exits 0")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "without waiting for the publish")
        XCTAssertEqual(FileManager.default.contents(atPath: harness.root + "/tiles/w.mbtiles"), v1)
    }

    func testCrashDuringPublishKeepsThePreviousTilesetAndTheJobRunsAgain() throws {
        // The default recipe at z9 takes tens of seconds in a debug build.
        let harness = try DaemonHarness(extraConfig: "default_maxzoom = 9")
        defer { harness.cleanUp() }
        let v1 = try startSlowPublish(harness)
        let tileset = harness.root + "/tiles/w.mbtiles"
        harness.crash()
        XCTAssertEqual(FileManager.default.contents(atPath: tileset), v1, "the previous tileset is intact after kill -9 mid-publish")

        // Restart with a quicker default so the re-run finishes promptly.
        try (try String(contentsOfFile: harness.configPath, encoding: .utf8)).replacingOccurrences(of: "default_maxzoom = 9", with: "default_maxzoom = 2")
            .write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        try harness.start()
        XCTAssertTrue(waitUntil(timeout: 60) {
            let jobs = (try? harness.status())?["jobs"]
            return jobs?["success"]?.intValue == 1 && jobs?["queued"]?.intValue == 0 && jobs?["processing"]?.intValue == 0
        }, harness.log)
        let tile = try harness.cli(["tile", tileset, "0/0/0"])
        let names = (try JSONParser.parse(Array(tile.stdout))["features"]?.arrayValue ?? []).compactMap { $0["properties"]?["NAME"]?.stringValue }
        XCTAssertEqual(Set(names).count, 177, "the re-run job published the new source")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: harness.root + "/tiles").filter { $0.hasPrefix(".") }, [], "no temporary file left")
    }

    func testFileArrivingByHardLinkIsIngested() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        try FileManager.default.createDirectory(atPath: harness.root + "/drop/linked", withIntermediateDirectories: true)
        let outside = harness.root + "/outside.geojson"
        try collection(file: 5, count: 7).write(to: URL(fileURLWithPath: outside))
        usleep(200_000)
        XCTAssertEqual(link(outside, harness.root + "/drop/linked/in.geojson"), 0, "IN_CREATE only, as sftp-server delivers")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        XCTAssertEqual(try sourcePairs(harness, map: "linked").count, 7)
    }

    func testSlowlyWrittenFileIsIngestedWhole() throws {
        let harness = try DaemonHarness(settleSeconds: 1.0)
        defer { harness.cleanUp() }
        try harness.start()
        let folder = harness.root + "/drop/slow"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        usleep(300_000)
        let data = collection(file: 1, count: 2000)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: folder + "/slow.geojson", contents: nil); return folder + "/slow.geojson" }()))
        let chunks = 8
        let size = data.count / chunks + 1
        for i in 0..<chunks {
            handle.write(data.subdata(in: (i * size)..<min(data.count, (i + 1) * size)))
            usleep(400_000)
        }
        try handle.close()
        XCTAssertTrue(waitUntil(timeout: 30) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        XCTAssertEqual(try sourcePairs(harness, map: "slow").count, 2000)
        XCTAssertEqual((try harness.status())["ingests"]?["failed"]?.intValue, 0)
    }

    func testHostileFilesFailWhileTheDaemonStaysUp() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        let laughs = """
        <?xml version="1.0"?>
        <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
        <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
        <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
        <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
        <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
        <kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol9;</name><Point><coordinates>1,2</coordinates></Point></Placemark></kml>
        """
        try harness.drop(Data(laughs.utf8), map: "hostile", name: "laughs.kml")
        try harness.drop(Data("<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Placemark><Point><coordinates>1,2".utf8), map: "hostile", name: "truncated.kml")
        try harness.drop(Data([0xFF, 0xFE, 0x00, 0x01, 0x7B]), map: "hostile", name: "binary.geojson")
        symlink("/etc/passwd", harness.root + "/drop/hostile/passwd.geojson")
        mkfifo(harness.root + "/drop/hostile/pipe.geojson", 0o644)
        try harness.drop(collection(file: 9, count: 3), map: "hostile", name: "good.geojson")

        let failed = harness.root + "/failed/hostile/"
        XCTAssertTrue(waitUntil(timeout: 60) {
            ["laughs.kml", "truncated.kml", "binary.geojson", "passwd.geojson", "pipe.geojson"].allSatisfy {
                FileManager.default.fileExists(atPath: failed + $0 + ".error.json")
            }
        }, "failed/: \((try? FileManager.default.contentsOfDirectory(atPath: failed)) ?? []); log:\n\(harness.log.suffix(3000))")
        let symlinkReport = try String(contentsOfFile: failed + "passwd.geojson.error.json", encoding: .utf8)
        XCTAssertTrue(symlinkReport.contains("symbolic link"), symlinkReport)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 })
        XCTAssertEqual(try sourcePairs(harness, map: "hostile").count, 3)
        XCTAssertFalse(try String(contentsOfFile: failed + "laughs.kml.error.json", encoding: .utf8).isEmpty)
        XCTAssertEqual(harness.stop(), 0, "still up and exits cleanly")
    }

    func testThousandsOfFilesAtOnceAndAnInotifyOverflowLoseNothing() throws {
        let harness = try DaemonHarness(settleSeconds: 0.1)
        defer { harness.cleanUp() }
        try harness.start()
        let staging = harness.root + "/staging"
        let drop = harness.root + "/drop/many"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        usleep(300_000)
        let count = 2000
        for i in 0..<count {
            try collection(file: i, count: 1).write(to: URL(fileURLWithPath: staging + "/f\(i).geojson"))
        }
        // Freeze the daemon so the kernel's event queue fills past fs.inotify.max_queued_events.
        let pid = harness.process!.processIdentifier
        kill(pid, SIGSTOP)
        for i in 0..<count {
            XCTAssertEqual(rename(staging + "/f\(i).geojson", drop + "/f\(i).geojson"), 0)
        }
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "16384") ?? 16384
        FileManager.default.createFile(atPath: drop + "/.junk-a", contents: nil)
        for _ in 0...(limit / 2) {
            rename(drop + "/.junk-a", drop + "/.junk-b")
            rename(drop + "/.junk-b", drop + "/.junk-a")
        }
        kill(pid, SIGCONT)
        XCTAssertTrue(waitUntil(timeout: 240) { (try? harness.status())?["ingests"]?["completed"]?.intValue == count },
                      "status: \(String(describing: try? harness.status()))")
        XCTAssertTrue(harness.log.contains("inotify queue overflowed"), "the test really overflowed the queue")
        // Compaction retires source files that the publish worker deletes between jobs: read the
        // folder once the queue is idle, so no file vanishes between listing and reading it.
        XCTAssertTrue(waitUntil(timeout: 60) {
            let jobs = (try? harness.status())?["jobs"]
            return jobs?["queued"]?.intValue == 0 && jobs?["processing"]?.intValue == 0
        })
        let pairs = try sourcePairs(harness, map: "many")
        XCTAssertEqual(pairs.count, count)
        XCTAssertEqual(Set(pairs).count, count)
        let sources = try FileManager.default.contentsOfDirectory(atPath: harness.root + "/sources/many").filter { $0.hasSuffix(".geojsonl") }
        XCTAssertLessThanOrEqual(sources.count, 11, "source files are compacted past max_source_files")
        XCTAssertTrue(waitUntil(timeout: 60) {
            let jobs = (try? harness.status())?["jobs"]
            return jobs?["queued"]?.intValue == 0 && jobs?["processing"]?.intValue == 0
        })
        XCTAssertEqual((try harness.status())["jobs"]?["failed"]?.intValue, 0, "compaction never pulls files from under a running publish")
        XCTAssertEqual((try harness.status())["ingests"]?["failed"]?.intValue, 0)
    }

    func testFullDiskPutsTheFileBackAndRetriesOnceSpaceIsFree() throws {
        let disk = try SmallFilesystem(name: "full")
        defer { disk.cleanUp() }
        let mountPoint = disk.mountPoint
        let harness = try DaemonHarness(root: mountPoint + "/root", settleSeconds: 0.1, extraConfig: "min_free_space = 0")
        defer { harness.cleanUp() }
        try harness.start()
        let data = collection(file: 1, count: 6000)
        let staging = mountPoint + "/staging.geojson"
        try data.write(to: URL(fileURLWithPath: staging))
        try disk.fill() // so the converted source cannot be written
        try FileManager.default.createDirectory(atPath: harness.root + "/drop/full", withIntermediateDirectories: true)
        XCTAssertEqual(rename(staging, harness.root + "/drop/full/big.geojson"), 0)
        XCTAssertTrue(waitUntil(timeout: 30) { harness.log.contains("no space left") || harness.log.contains("disk is full") }, harness.log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/drop/full/big.geojson"), "put back, not lost")
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/failed/full/big.geojson"), "a full disk is not the file's fault")
        try disk.empty()
        XCTAssertTrue(waitUntil(timeout: 60) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 }, harness.log)
        XCTAssertEqual(try sourcePairs(harness, map: "full").count, 6000)
        XCTAssertEqual(harness.stop(), 0)
    }
}
