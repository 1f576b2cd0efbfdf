import Foundation
import GeoModel
import SystemSupport
import XCTest

/// Issue 5: groups, replace, duplicates, tileset containers, the socket API and sd_notify.
final class MapsAndSocketTests: XCTestCase {
    private func points(_ tag: String, count: Int) -> Data {
        let features = (0..<count).map { i in
            "{\"type\":\"Feature\",\"properties\":{\"tag\":\"\(tag)\",\"i\":\(i)},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(Double(i % 3600) * 0.1 - 180),\(Double(i % 1700) * 0.1 - 85)]}}"
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    private func sourceLines(_ harness: DaemonHarness, map: String) throws -> [JSONValue] {
        let folder = harness.root + "/sources/" + map
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted().flatMap { name in
            try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        }
    }

    private func get(_ harness: DaemonHarness, _ path: String) throws -> (Int, JSONValue) {
        try request(harness, "GET", path)
    }

    private func request(_ harness: DaemonHarness, _ method: String, _ path: String) throws -> (Int, JSONValue) {
        let socket = try UnixSocket.connect(path: harness.root + "/tiledrop.sock")
        try socket.sendAll(Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
        var bytes: [UInt8] = []
        while true {
            let chunk = try socket.receive()
            if chunk.isEmpty { break }
            bytes += chunk
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let status = Int(parts[0].split(separator: " ")[1]) ?? 0
        return (status, try JSONParser.parse(parts.dropFirst().joined(separator: "\r\n\r\n")))
    }

    func testGroupsReplaceDuplicatesAndTheSocketAPI() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points("a", count: 3), map: "trips", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 })
        try harness.drop(points("b", count: 2), map: "trips", name: "b.geojson", group: "Summer 2024")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 2 })
        var lines = try sourceLines(harness, map: "trips")
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines.filter { $0["properties"]?["group"]?.stringValue == "Summer 2024" }.count, 2, "each feature records its group")

        // The same content again: recognised, completed with a warning, not appended.
        try harness.drop(points("a", count: 3), map: "trips", name: "a-again.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 3 })
        XCTAssertEqual(try sourceLines(harness, map: "trips").count, 5)
        let (_, ingests) = try get(harness, "/v1/ingests?limit=1")
        let latest = try XCTUnwrap(ingests.arrayValue?.first)
        XCTAssertEqual(latest["filename"]?.stringValue, "a-again.geojson")
        XCTAssertTrue(latest["warnings"]?.arrayValue?.first?["message"]?.stringValue?.contains("already ingested") == true)
        for field in ["id", "document_id", "state", "filename", "size", "errors", "progress"] {
            XCTAssertNotNil(latest[field], "TilesetIngest field \(field)")
        }
        let id = try XCTUnwrap(latest["id"]?.stringValue)
        XCTAssertEqual(try get(harness, "/v1/ingests/\(id)").1["state"]?.stringValue, "completed")
        XCTAssertEqual(try get(harness, "/v1/ingests/nope").0, 404)
        XCTAssertEqual(try request(harness, "POST", "/v1/ingests/\(id)/cancel").0, 409, "finished ingests cannot be canceled")

        // Replace: the map's source becomes just the new file.
        try harness.drop(points("r", count: 4), map: "trips", name: "r.geojson", group: "_replace")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 4 })
        lines = try sourceLines(harness, map: "trips")
        XCTAssertEqual(lines.map { $0["properties"]?["tag"]?.stringValue ?? "" }, ["r", "r", "r", "r"])

        let (_, maps) = try get(harness, "/v1/maps")
        let trips = try XCTUnwrap(maps.arrayValue?.first { $0["id"]?.stringValue == "trips" })
        for field in ["id", "title", "short_name", "owner", "visibility", "url"] { XCTAssertNotNil(trips[field], field) }
        XCTAssertEqual(trips["groups"]?.arrayValue?.compactMap { $0["title"]?.stringValue }, ["Summer 2024"])

        XCTAssertTrue(waitUntil(timeout: 30) {
            let jobs = (try? self.get(harness, "/tilesets/v1/trips/jobs"))?.1.arrayValue ?? []
            return !jobs.isEmpty && jobs.allSatisfy { ["success", "failed"].contains($0["stage"]?.stringValue ?? "") }
        })
        let jobs = try get(harness, "/tilesets/v1/trips/jobs").1.arrayValue ?? []
        XCTAssertTrue(jobs.allSatisfy { $0["stage"]?.stringValue == "success" }, "\(jobs)")
        XCTAssertNotNil(jobs.first?["layer_stats"]?["trips"]?["total_tiles"], "MTS layer_stats stored on the job")
        // Issue 15: the job records what the publish held in memory, and `status` shows it.
        let memory = try XCTUnwrap(jobs.first?["memory"], "memory stored on the job: \(jobs)")
        XCTAssertEqual(memory["budget_bytes"]?.intValue, 256_000_000, "the default tiling_memory")
        XCTAssertGreaterThan(memory["peak_bytes"]?.intValue ?? 0, 0)
        XCTAssertGreaterThan(memory["peak_rss_bytes"]?.intValue ?? 0, 1_000_000)
        XCTAssertEqual(try harness.status()["last_job"]?["memory"], memory)
        let human = String(decoding: try harness.cli(["status", "--root", harness.root]).stdout, as: UTF8.self)
        XCTAssertTrue(human.contains("memory: tiler peak ") && human.contains(" MB of a 256 MB budget, process peak RSS "), human)
        XCTAssertEqual(try get(harness, "/v1/nothing").0, 404)
        XCTAssertEqual(harness.stop(), 0)
    }

    func testRecipesRepublishEveryTilesetThatUsesAChangedSource() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try FileManager.default.createDirectory(atPath: harness.root + "/recipes", withIntermediateDirectories: true)
        try """
        {"version": 1, "layers": {
          "towns": {"source": "tiledrop://tileset-source/towns", "minzoom": 0, "maxzoom": 3},
          "peaks": {"source": "tiledrop://tileset-source/peaks", "minzoom": 0, "maxzoom": 3}}}
        """.write(toFile: harness.root + "/recipes/outdoor.json", atomically: true, encoding: .utf8)
        try harness.start()
        try harness.drop(points("t", count: 4), map: "towns", name: "t.geojson")
        try harness.drop(points("p", count: 2), map: "peaks", name: "p.geojson")
        // Each ingest queues its own republish of `outdoor`; wait for the one that holds both
        // maps (the job counters can read zero between the second ingest and its job).
        let tileset = harness.root + "/tiles/outdoor.mbtiles"
        func tagCounts() -> (towns: Int, peaks: Int) {
            guard FileManager.default.fileExists(atPath: tileset), let tile = try? harness.cli(["tile", tileset, "0/0/0"]),
                  let features = (try? JSONParser.parse(Array(tile.stdout)))?["features"]?.arrayValue else { return (0, 0) }
            return (features.filter { $0["properties"]?["tag"]?.stringValue == "t" }.count,
                    features.filter { $0["properties"]?["tag"]?.stringValue == "p" }.count)
        }
        XCTAssertTrue(waitUntil(timeout: 30) {
            (try? harness.status())?["ingests"]?["completed"]?.intValue == 2 && tagCounts() == (4, 2)
        }, "towns/peaks in 0/0/0: \(tagCounts())\n" + harness.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/tiles/towns.mbtiles"), "a map used by a recipe gets no default tileset")

        // The same recipe, one-shot, against the daemon's committed sources.
        let oneShot = harness.root + "/one-shot.mbtiles"
        let r = try harness.cli(["publish", harness.root + "/recipes/outdoor.json", "-o", oneShot, "--root", harness.root, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try JSONParser.parse(Array(r.stdout))["layer_stats"]?["towns"]?["point_count"]?.intValue.map { $0 > 0 }, true)
        let budgeted = try harness.cli(["publish", harness.root + "/recipes/outdoor.json", "-o", oneShot, "--root", harness.root, "--memory", "40M"])
        XCTAssertEqual(budgeted.status, 0, budgeted.stderr)
        XCTAssertTrue(String(decoding: budgeted.stdout, as: UTF8.self).contains("of a 40 MB budget"), String(decoding: budgeted.stdout, as: UTF8.self))
        let tooSmall = try harness.cli(["publish", harness.root + "/recipes/outdoor.json", "-o", oneShot, "--root", harness.root, "--memory", "1K"])
        XCTAssertEqual(tooSmall.status, 64)
        XCTAssertTrue(tooSmall.stderr.contains("--memory must be a size of at least 32M"), tooSmall.stderr)
        let noRoot = try harness.cli(["publish", harness.root + "/recipes/outdoor.json", "-o", oneShot])
        XCTAssertEqual(noRoot.status, 65)
        XCTAssertTrue(noRoot.stderr.hasPrefix("tiledrop publish:") && noRoot.stderr.contains("--root"), noRoot.stderr)
    }

    func testShippedExampleRecipeIsValid() throws {
        let r = try DaemonHarness.run(["validate-recipe", DaemonHarness.repositoryRoot + "/etc/tiledrop/recipes/trails.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try JSONParser.parse(Array(r.stdout))["valid"], .bool(true))
    }

    func testDeletedAndRecreatedDropFolderRecovers() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points("x", count: 2), map: "m1", name: "x.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 1 })
        try FileManager.default.removeItem(atPath: harness.root + "/drop")
        XCTAssertTrue(waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: harness.root + "/drop") }, "re-created")
        usleep(200_000)
        try harness.drop(points("y", count: 3), map: "m2", name: "y.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["ingests"]?["completed"]?.intValue == 2 }, harness.log)
        XCTAssertEqual((try harness.status())["maps"]?.arrayValue, [.string("m2")])
        XCTAssertEqual(harness.stop(), 0)
    }

    func testCancelingAnIngestThroughTheSocket() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        // Big enough that converting it takes a while in a debug build.
        try harness.drop(points("big", count: 150_000), map: "slow", name: "big.geojson")
        var id = ""
        XCTAssertTrue(waitUntil(timeout: 30) {
            let processing = (try? self.get(harness, "/v1/ingests?state=processing"))?.1.arrayValue ?? []
            id = processing.first?["id"]?.stringValue ?? ""
            return !id.isEmpty
        }, harness.log)
        let (status, body) = try request(harness, "POST", "/v1/ingests/\(id)/cancel")
        XCTAssertEqual(status, 200, "\(body)")
        XCTAssertTrue(waitUntil(timeout: 30) { (try? self.get(harness, "/v1/ingests/\(id)"))?.1["state"]?.stringValue == "canceled" }, harness.log)
        // The state is recorded first, then the file moves to failed/ beside its report.
        let reportPath = harness.root + "/failed/slow/big.geojson.error.json"
        XCTAssertTrue(waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: reportPath) }, harness.log)
        let report = try String(contentsOfFile: reportPath, encoding: .utf8)
        XCTAssertTrue(report.contains("canceled by request"), report)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: harness.root + "/sources/slow")) ?? [], [], "nothing was appended, no temporary left")
        XCTAssertEqual(harness.stop(), 0)
    }

    func testDroppedMBTilesIsValidatedAndInstalled() throws {
        let work = NSTemporaryDirectory() + "tiledrop-mbt-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try points("c", count: 10).write(to: URL(fileURLWithPath: work + "/p.geojson"))
        try #"{"version":1,"layers":{"pts":{"source":"p.geojson","minzoom":0,"maxzoom":3}}}"#.write(toFile: work + "/r.json", atomically: true, encoding: .utf8)
        let published = try DaemonHarness.run(["publish", work + "/r.json", "-o", work + "/pts.mbtiles"])
        XCTAssertEqual(published.status, 0, published.stderr)

        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(try Data(contentsOf: URL(fileURLWithPath: work + "/pts.mbtiles")), map: "basemap", name: "pts.mbtiles")
        try harness.drop(Data("not sqlite at all".utf8), map: "basemap", name: "fake.mbtiles")
        let installed = harness.root + "/tiles/basemap.mbtiles"
        XCTAssertTrue(waitUntil(timeout: 30) { FileManager.default.fileExists(atPath: installed) }, harness.log)
        XCTAssertTrue(waitUntil(timeout: 30) { FileManager.default.fileExists(atPath: harness.root + "/failed/basemap/fake.mbtiles.error.json") })
        let tile = try harness.cli(["tile", installed, "0/0/0"])
        XCTAssertEqual(tile.status, 0, tile.stderr)
        XCTAssertEqual(try JSONParser.parse(Array(tile.stdout))["features"]?.arrayValue?.count, 10)
    }

    func testSystemdNotificationsReadyStatusReloadWatchdogStopping() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        let notifyPath = harness.root + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in notifyPath.utf8.enumerated() { raw[i] = b } }
        XCTAssertEqual(withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }, 0)
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var messages: [String] = []
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return }
                messages.append(String(decoding: buffer.prefix(n), as: UTF8.self))
            }
        }
        setenv("NOTIFY_SOCKET", notifyPath, 1)
        setenv("WATCHDOG_USEC", "1000000", 1)
        defer { unsetenv("NOTIFY_SOCKET"); unsetenv("WATCHDOG_USEC") }
        try harness.start()
        unsetenv("NOTIFY_SOCKET")
        XCTAssertTrue(waitUntil(timeout: 5) { drain(); return messages.contains { $0.hasPrefix("READY=1") && $0.contains("STATUS=") } }, "\(messages)")
        XCTAssertTrue(waitUntil(timeout: 5) { drain(); return messages.filter { $0 == "WATCHDOG=1" }.count >= 2 }, "watchdog at half the interval: \(messages)")
        kill(harness.process!.processIdentifier, SIGHUP)
        XCTAssertTrue(waitUntil(timeout: 5) { drain(); return messages.contains { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") } }, "\(messages)")
        XCTAssertTrue(waitUntil(timeout: 5) { drain(); return messages.last { $0.hasPrefix("READY=1") || $0.hasPrefix("RELOADING") }?.hasPrefix("READY=1") == true })
        XCTAssertTrue(harness.log.contains("reloaded configuration"))
        XCTAssertEqual(harness.stop(), 0)
        drain()
        XCTAssertTrue(messages.contains("STOPPING=1"), "\(messages)")
    }
}
