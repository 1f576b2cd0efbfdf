import Foundation
import GeoModel
import Storage
import XCTest

/// Issue 9 ("the first hour of a new user"), played against the real binary: recipes that
/// act when they change, folder names people use, files dropped in the wrong place, defaults
/// that fit the data, and a command line that helps. Also issue 8's FIFO recipe.
final class FirstHourTests: XCTestCase {
    private func points(_ tag: String, lon: Double) -> Data {
        let features = (0..<3).map { i in
            "{\"type\":\"Feature\",\"properties\":{\"tag\":\"\(tag)\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(lon + Double(i)),\(Double(i))]}}"
        }
        return Data("{\"type\":\"FeatureCollection\",\"features\":[\(features.joined(separator: ","))]}".utf8)
    }

    private func exists(_ harness: DaemonHarness, _ path: String) -> Bool {
        FileManager.default.fileExists(atPath: harness.root + "/" + path)
    }

    private func layers(_ harness: DaemonHarness, tileset: String) throws -> [String] {
        let meta = try MBTilesReader(path: harness.root + "/tiles/\(tileset).mbtiles").metadata()
        return try JSONParser.parse(meta["json"] ?? "{}")["vector_layers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    /// Writes a recipe the way an editor saves: a temporary name, then a rename.
    private func writeRecipe(_ harness: DaemonHarness, _ name: String, _ text: String) throws {
        let temp = harness.root + "/recipes/.\(name).swp"
        try text.write(toFile: temp, atomically: false, encoding: .utf8)
        XCTAssertEqual(rename(temp, harness.root + "/recipes/\(name).json"), 0)
    }

    func testRecipesActWhenTheyChangeAndFolderNamesPeopleUseBecomeMaps() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()

        // Folders with spaces and accents are maps: title = folder name, id = slug.
        try harness.drop(points("w", lon: 10), map: "Wanderwege Bayern", name: "wege.geojson")
        try harness.drop(points("c", lon: 20), map: "café", name: "tische.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { self.exists(harness, "tiles/wanderwege-bayern.mbtiles") && self.exists(harness, "tiles/cafe.mbtiles") },
                      "default tilesets for both maps; log:\n\(harness.log)")
        let maps = try harness.cli(["status", "--json", "--root", harness.root])
        XCTAssertEqual(maps.status, 0)
        let status = try harness.status()
        XCTAssertEqual(status["maps"]?.arrayValue?.compactMap(\.stringValue).sorted(), ["cafe", "wanderwege-bayern"])
        XCTAssertTrue(exists(harness, "archive/wanderwege-bayern/wege.geojson"))

        // A file dropped into drop/ itself goes to failed/ with a reason; status and log say so.
        let loose = harness.root + "/drop/loose.geojson"
        try points("l", lon: 0).write(to: URL(fileURLWithPath: loose))
        // The report is written first, then the file moves beside it: wait for both.
        XCTAssertTrue(waitUntil(timeout: 20) { self.exists(harness, "failed/loose.geojson.error.json") && self.exists(harness, "failed/loose.geojson") }, harness.log)
        let reason = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: harness.root + "/failed/loose.geojson.error.json"))))
        XCTAssertTrue(reason["errors"]?.arrayValue?.first?["message"]?.stringValue?.contains("drop/<map>/") == true, "\(reason)")
        // The move to failed/ happens before the event loop publishes the status snapshot: wait for it.
        XCTAssertTrue(waitUntil(timeout: 10) { (try? harness.status())?["warnings"]?.arrayValue?.contains { $0.stringValue?.contains("loose.geojson") == true } == true })
        XCTAssertTrue(harness.log.contains("loose.geojson was dropped into drop/ itself"))

        // A recipe written while the daemon runs, combining both maps: one tileset, two layers,
        // published within seconds; the maps' default tilesets are retired to archive/tiles/.
        let started = Date()
        try writeRecipe(harness, "both", """
            {"version": 1, "layers": {
              "wege": {"source": "tiledrop://tileset-source/wanderwege-bayern", "minzoom": 0, "maxzoom": 4},
              "cafes": {"source": "tiledrop://tileset-source/cafe", "minzoom": 0, "maxzoom": 4}}}
            """)
        XCTAssertTrue(waitUntil(timeout: 20) { self.exists(harness, "tiles/both.mbtiles") }, harness.log)
        print("recipe written → tileset published in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(try layers(harness, tileset: "both").sorted(), ["cafes", "wege"])
        XCTAssertTrue(waitUntil(timeout: 10) { !self.exists(harness, "tiles/cafe.mbtiles") && !self.exists(harness, "tiles/wanderwege-bayern.mbtiles") })
        XCTAssertTrue(exists(harness, "archive/tiles/cafe.mbtiles") && exists(harness, "archive/tiles/wanderwege-bayern.mbtiles"))
        XCTAssertTrue(harness.log.contains("tileset cafe: retired to"))

        // A drop into a map republishes the recipe's tileset, not the retired default.
        let jobsBefore = try harness.status()["jobs"]?["success"]?.intValue ?? 0
        try harness.drop(points("c2", lon: 30), map: "café", name: "more.geojson")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["jobs"]?["success"]?.intValue == jobsBefore + 1 }, harness.log)
        XCTAssertFalse(exists(harness, "tiles/cafe.mbtiles"))

        // An invalid recipe: in the status with validate-recipe's wording, logged once.
        try writeRecipe(harness, "bad", #"{"version": 1, "layers": {"x": {"source": "tiledrop://tileset-source/cafe", "minzoom": 22, "maxzoom": 11}}}"#)
        XCTAssertTrue(waitUntil(timeout: 10) {
            (try? harness.status())?["recipes"]?.arrayValue?.contains { $0["tileset"]?.stringValue == "bad" && $0["valid"]?.boolValue == false } == true
        })
        let bad = try XCTUnwrap(try harness.status()["recipes"]?.arrayValue?.first { $0["tileset"]?.stringValue == "bad" })
        XCTAssertEqual(bad["errors"]?.arrayValue?.compactMap(\.stringValue), ["minzoom 22 cannot be larger than maxzoom 11"])
        let human = String(decoding: try harness.cli(["status", "--root", harness.root]).stdout, as: UTF8.self)
        XCTAssertTrue(human.contains("recipe bad is INVALID"), human)
        usleep(4_500_000) // two safety scans
        XCTAssertEqual(harness.log.components(separatedBy: "recipes/bad.json is invalid").count - 1, 1, "logged once, not on every scan")

        // A recipe may not make the daemon read files outside the root.
        try writeRecipe(harness, "outside", #"{"version": 1, "layers": {"x": {"source": "/etc/hostname", "minzoom": 0, "maxzoom": 1}}}"#)
        XCTAssertTrue(waitUntil(timeout: 10) {
            (try? harness.status())?["recipes"]?.arrayValue?.contains {
                $0["tileset"]?.stringValue == "outside" && $0["errors"]?.arrayValue?.first?.stringValue?.contains("outside the root") == true
            } == true
        }, harness.log)
        XCTAssertFalse(exists(harness, "tiles/outside.mbtiles"))

        // republish re-runs a tileset on demand; an unknown one is refused.
        let before = try harness.status()["jobs"]?["success"]?.intValue ?? 0
        let again = try harness.cli(["republish", "both", "--root", harness.root])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(String(decoding: again.stdout, as: UTF8.self).contains("publish job"))
        XCTAssertTrue(waitUntil(timeout: 20) { (try? harness.status())?["jobs"]?["success"]?.intValue == before + 1 })
        let unknown = try harness.cli(["republish", "nope", "--root", harness.root])
        XCTAssertEqual(unknown.status, 66)
        XCTAssertTrue(unknown.stderr.contains("no tileset nope"), unknown.stderr)

        // Removing the recipe retires its tileset; the maps get their default tilesets back.
        try FileManager.default.removeItem(atPath: harness.root + "/recipes/both.json")
        XCTAssertTrue(waitUntil(timeout: 20) {
            !self.exists(harness, "tiles/both.mbtiles") && self.exists(harness, "archive/tiles/both.mbtiles") && self.exists(harness, "tiles/cafe.mbtiles")
        }, harness.log)
        XCTAssertEqual(harness.stop(), 0)
    }

    /// Issue 8: a FIFO in recipes/ blocks neither ingestion nor shutdown.
    func testFIFORecipeBlocksNothing() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try FileManager.default.createDirectory(atPath: harness.root + "/recipes", withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(harness.root + "/recipes/fifo.json", 0o644), 0)
        try harness.start()
        try harness.drop(points("a", lon: 0), map: "trips", name: "a.geojson")
        XCTAssertTrue(waitUntil(timeout: 30) { self.exists(harness, "tiles/trips.mbtiles") }, "drops still publish; log:\n\(harness.log)")
        let fifo = try XCTUnwrap(try harness.status()["recipes"]?.arrayValue?.first { $0["tileset"]?.stringValue == "fifo" })
        XCTAssertTrue(fifo["errors"]?.arrayValue?.first?.stringValue?.contains("not a regular file") == true, "\(fifo)")
        // A second FIFO appearing while running is reported the same way.
        XCTAssertEqual(mkfifo(harness.root + "/recipes/fifo2.json", 0o644), 0)
        XCTAssertTrue(waitUntil(timeout: 10) {
            (try? harness.status())?["recipes"]?.arrayValue?.contains { $0["tileset"]?.stringValue == "fifo2" } == true
        })
        let started = Date()
        XCTAssertEqual(harness.stop(), 0, "SIGTERM exits")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// 177 Natural Earth countries with `default_maxzoom = auto`: the zoom comes from the data,
    /// the job report says so, and the tileset stays small (it was 78 MB at z0–10).
    func testDefaultMaxzoomForCountriesIsChosenFromTheData() throws {
        let fixture = DaemonHarness.fixtures + "/real/ne_110m_admin_0_countries.json"
        guard FileManager.default.fileExists(atPath: fixture) else {
            throw XCTSkip("fixture \(fixture) is absent; set TILEDROP_FIXTURES to the shared fixtures folder")
        }
        let harness = try DaemonHarness(extraConfig: "default_maxzoom = auto")
        defer { harness.cleanUp() }
        try harness.start()
        try harness.drop(try Data(contentsOf: URL(fileURLWithPath: fixture)), map: "countries", name: "countries.json")
        let tileset = harness.root + "/tiles/countries.mbtiles"
        XCTAssertTrue(waitUntil(timeout: 60) { FileManager.default.fileExists(atPath: tileset) }, harness.log)
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: tileset)[.size] as? Int)
        let meta = try MBTilesReader(path: tileset).metadata()
        let jobs = try harness.cli(["status", "--json", "--root", harness.root])
        XCTAssertEqual(jobs.status, 0)
        let lastJob = try XCTUnwrap(try harness.status()["last_job"])
        XCTAssertEqual(lastJob["tileset"]?.stringValue, "countries")
        let job = try XCTUnwrap(try StateDatabase(path: harness.root + "/state.db", readOnly: true).jobs(tileset: "countries").first)
        let stats = try JSONParser.parse(job.layerStats ?? "{}")
        let why = stats["countries"]?["maxzoom_chosen"]?.stringValue
        print("countries (177 features): maxzoom \(meta["maxzoom"] ?? "?"), \(size) bytes; \(why ?? "no reason recorded")")
        XCTAssertLessThanOrEqual(size, 10_000_000)
        XCTAssertTrue(why?.contains("chosen from the data") == true, "\(stats)")
        XCTAssertTrue(why?.contains("z\(meta["maxzoom"] ?? "?") chosen") == true, why ?? "")
        XCTAssertTrue(harness.log.contains("maxzoom \(meta["maxzoom"] ?? "?") chosen from the data"))
        XCTAssertEqual(harness.stop(), 0)
    }

    /// Every command answers --help with exit 0 and lists each of its flags; --version works.
    func testEveryCommandHasHelpListingItsFlags() throws {
        let flags: [String: [String]] = [
            "run": ["--root", "--config"],
            "status": ["--root", "--socket", "--config", "--json", "--watch", "--interval"],
            "republish": ["--root", "--socket", "--config"],
            "convert": ["-o", "--output"],
            "publish": ["-o", "--output", "--json", "--name", "--root", "--threads"],
            "validate-recipe": [],
            "tile": [],
            "render": ["-o", "--output", "--root", "--config"],
            "preview": ["-o", "--output", "--size", "--root", "--config"],
        ]
        for (command, expected) in flags {
            for spelling in ["--help", "-h"] {
                let r = try DaemonHarness.run([command, spelling])
                let text = String(decoding: r.stdout, as: UTF8.self)
                XCTAssertEqual(r.status, 0, "\(command) \(spelling): \(r.stderr)")
                XCTAssertTrue(text.hasPrefix("usage: tiledrop \(command)"), text)
                for flag in expected { XCTAssertTrue(text.contains(flag + " ") || text.contains(flag + ","), "\(command) --help lists \(flag):\n\(text)") }
            }
        }
        let overview = try DaemonHarness.run(["--help"])
        XCTAssertEqual(overview.status, 0)
        for command in flags.keys { XCTAssertTrue(String(decoding: overview.stdout, as: UTF8.self).contains("tiledrop \(command)"), command) }
        let version = try DaemonHarness.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(String(decoding: version.stdout, as: UTF8.self).hasPrefix("tiledrop "))
        let unknownFlag = try DaemonHarness.run(["status", "--bogus"])
        XCTAssertEqual(unknownFlag.status, 64)
        XCTAssertTrue(unknownFlag.stderr.contains("tiledrop status --help"), unknownFlag.stderr)
    }

    /// `tiledrop status --watch` redraws with the progress of what is running.
    func testStatusWatchRedraws() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try harness.start()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DaemonHarness.binary)
        p.arguments = ["status", "--watch", "--interval", "0.2", "--root", harness.root]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        usleep(1_000_000)
        p.terminate()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertGreaterThanOrEqual(text.components(separatedBy: "tiledrop ").count - 1, 3, "several redraws:\n\(text)")
        XCTAssertTrue(text.contains("\n---\n"), "blocks are separated when not on a terminal")
    }
}
