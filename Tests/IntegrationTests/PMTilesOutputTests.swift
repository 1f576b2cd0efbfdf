import Foundation
import GeoModel
import Storage
import SystemSupport
import XCTest

/// Issue 14: PMTiles from the command line and from the daemon, checked with the `pmtiles`
/// package from PyPI (Tests/Scripts/pmtiles_check.py), and the after_publish hook.
final class PMTilesOutputTests: XCTestCase {
    private func points(count: Int) -> Data {
        let features = (0..<count).map { i in
            "{\"type\":\"Feature\",\"properties\":{\"i\":\(i),\"kind\":\"\(i % 3 == 0 ? "a" : "b")\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(Double(i % 360) - 179.5),\(Double(i % 170) - 84.5)]}}"
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    /// Runs the Python checker; skips (saying so) when python3 or the package is missing.
    private func pythonCheck(_ archive: String, mbtiles: String) throws {
        let script = DaemonHarness.repositoryRoot + "/Tests/Scripts/pmtiles_check.py"
        let r = try DaemonHarness.runTool("/usr/bin/env", ["python3", script, archive, mbtiles])
        if r.status == 3 || r.status == 127 { throw XCTSkip("Python pmtiles package unavailable (pip install pmtiles): \(r.output)") }
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("valid clustered PMTiles v3"), r.output)
    }

    func testPublishConvertAndTileReadBothFormats() throws {
        let dir = NSTemporaryDirectory() + "pmtiles-it-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try points(count: 3000).write(to: URL(fileURLWithPath: dir + "/points.geojson"))
        try #"{"version": 1, "layers": {"points": {"source": "points.geojson", "minzoom": 0, "maxzoom": 7}}}"#
            .write(toFile: dir + "/recipe.json", atomically: true, encoding: .utf8)

        for out in ["a.mbtiles", "a.pmtiles"] {
            let r = try DaemonHarness.run(["publish", dir + "/recipe.json", "-o", dir + "/" + out])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let pmHeader = try PMTilesReader(path: dir + "/a.pmtiles").header
        XCTAssertTrue(pmHeader.clustered)
        XCTAssertEqual(pmHeader.maxZoom, 7)
        let sizes = try ["a.mbtiles", "a.pmtiles"].map { try FileManager.default.attributesOfItem(atPath: dir + "/" + $0)[.size] as? Int ?? 0 }
        XCTAssertLessThanOrEqual(sizes[1], sizes[0], "the archive is no larger than the MBTiles")
        try pythonCheck(dir + "/a.pmtiles", mbtiles: dir + "/a.mbtiles")

        // MBTiles → PMTiles → MBTiles keeps every tile and the metadata.
        XCTAssertEqual(try DaemonHarness.run(["convert-tiles", dir + "/a.mbtiles", dir + "/b.pmtiles"]).status, 0)
        try pythonCheck(dir + "/b.pmtiles", mbtiles: dir + "/a.mbtiles")
        let back = try DaemonHarness.run(["convert-tiles", dir + "/b.pmtiles", dir + "/c.mbtiles"])
        XCTAssertEqual(back.status, 0, back.stderr)
        XCTAssertEqual(try MBTilesReader(path: dir + "/c.mbtiles").validate(), [])
        try pythonCheck(dir + "/a.pmtiles", mbtiles: dir + "/c.mbtiles")

        // `tiledrop tile` reads both and answers the same.
        let fromMB = try DaemonHarness.run(["tile", dir + "/a.mbtiles", "3/4/3"])
        let fromPM = try DaemonHarness.run(["tile", dir + "/a.pmtiles", "3/4/3"])
        XCTAssertEqual(fromMB.status, 0, fromMB.stderr)
        XCTAssertEqual(fromPM.stdout, fromMB.stdout)
        XCTAssertEqual(try DaemonHarness.run(["tile", dir + "/a.pmtiles", "7/0/0"]).status, 66, "a tile the archive does not hold")

        // Mistakes: a clear message and a sysexits code, never a crash.
        XCTAssertEqual(try DaemonHarness.run(["convert-tiles", dir + "/a.mbtiles", dir + "/out.zip"]).status, 64)
        try Data("not a tileset".utf8).write(to: URL(fileURLWithPath: dir + "/junk.pmtiles"))
        let junk = try DaemonHarness.run(["convert-tiles", dir + "/junk.pmtiles", dir + "/d.mbtiles"])
        XCTAssertEqual(junk.status, 65, junk.stderr)
        XCTAssertTrue(junk.stderr.contains("neither an MBTiles"), junk.stderr)
        XCTAssertEqual(try DaemonHarness.run(["tile", dir + "/junk.pmtiles", "0/0/0"]).status, 66)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/d.mbtiles"))
    }

    /// outputs = mbtiles, pmtiles: the daemon publishes both; after_publish runs once per
    /// file, and each exit status lands on the job and in the log.
    func testDaemonPublishesBothAndRunsTheHook() throws {
        let hookDir = NSTemporaryDirectory() + "pmtiles-hook-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: hookDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: hookDir) }
        let script = hookDir + "/sync-to-bucket"
        // Succeeds for the PMTiles, fails with status 7 for the MBTiles.
        try "#!/bin/sh\necho \"uploading $1\"\necho \"$1\" >> \(hookDir)/calls\ncase \"$1\" in *.pmtiles) exit 0;; *) exit 7;; esac\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let harness = try DaemonHarness(extraConfig: "outputs = mbtiles, pmtiles\nafter_publish = \(script) %f\nafter_publish_timeout = 30\n")
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(points(count: 500), map: "trails", name: "points.geojson")
        let mb = harness.root + "/tiles/trails.mbtiles", pm = harness.root + "/tiles/trails.pmtiles"
        XCTAssertTrue(waitUntil(timeout: 60) {
            guard let jobs = try? StateDatabase(path: harness.root + "/state.db", readOnly: true).jobs(tileset: "trails") else { return false }
            return jobs.first?.afterPublish != nil
        }, harness.log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: mb))
        XCTAssertTrue(FileManager.default.fileExists(atPath: pm))
        try pythonCheck(pm, mbtiles: mb)

        let job = try XCTUnwrap(try StateDatabase(path: harness.root + "/state.db", readOnly: true).jobs(tileset: "trails").first)
        XCTAssertEqual(job.stage, .success, "a failing hook does not fail the publish")
        let results = try XCTUnwrap(job.jsonValue["after_publish"]?.arrayValue)
        XCTAssertEqual(results.count, 2)
        XCTAssertEqual(results.map { URL(fileURLWithPath: $0["file"]?.stringValue ?? "").lastPathComponent }, ["trails.mbtiles", "trails.pmtiles"])
        XCTAssertEqual(results.map { $0["exit_status"]?.intValue }, [7, 0])
        XCTAssertEqual(results[1]["output"]?.stringValue?.hasPrefix("uploading "), true)
        XCTAssertTrue(job.warnings.contains { $0.contains("exited with status 7") }, "\(job.warnings)")
        XCTAssertTrue(harness.log.contains("exited with status 7"), harness.log)
        XCTAssertEqual(try String(contentsOfFile: hookDir + "/calls", encoding: .utf8).split(separator: "\n").count, 2)

        // The HTTP server serves the archive with ranges, as a MapLibre pmtiles client reads it.
        let socket = try UnixSocket.connect(path: harness.root + "/tiledrop.sock")
        try socket.sendAll(Array("GET /pmtiles/trails.pmtiles HTTP/1.1\r\nHost: x\r\nRange: bytes=0-126\r\nConnection: close\r\n\r\n".utf8))
        var answer: [UInt8] = []
        while true {
            let chunk = try socket.receive()
            if chunk.isEmpty { break }
            answer += chunk
        }
        let text = String(decoding: answer, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 206"), text)
        XCTAssertTrue(text.contains("Accept-Ranges: bytes") && text.contains("ETag: \""), text)
        let body = Array(answer.suffix(127))
        XCTAssertEqual(body, Array(try Data(contentsOf: URL(fileURLWithPath: pm)).prefix(127)), "the first 127 bytes: the header")
        XCTAssertEqual(harness.stop(), 0)
    }
}
