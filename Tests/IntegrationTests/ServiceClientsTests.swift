import Foundation
import GeoModel
import XCTest

/// The services' own clients, unchanged, against the real daemon on a temporary root over TCP:
/// `mapbox-tilesets` (MTS), `maptiler-cloud` (MapTiler ingest) and `curl` as MapHub's seed
/// shows it. Skipped when the Python clients are not installed (`pip install mapbox-tilesets
/// maptiler-cloud-cli`; `.ci/run` installs them).
final class ServiceClientsTests: XCTestCase {
    private var harness: DaemonHarness!
    private var port = 0
    private var token = ""
    private var work = ""

    override func setUpWithError() throws {
        port = try ServiceClientsTests.freePort()
        harness = try DaemonHarness(extraConfig: "owner = alice\nlisten = 127.0.0.1:\(port)")
        work = harness.root + "/client"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try harness.start()
        let created = try harness.cli(["token", "create", "--scopes", "tilesets:read tilesets:write tilesets:list", "--config", harness.configPath, "--root", harness.root])
        XCTAssertEqual(created.status, 0, created.stderr)
        token = String(decoding: created.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    override func tearDownWithError() throws {
        harness?.cleanUp()
    }

    /// A TCP port nobody listens on right now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw NSError(domain: "freePort", code: Int(errno)) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The full path of `tool` on PATH, or nil.
    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a client with `MAPBOX_API` pointing at the daemon; returns exit status, stdout, stderr.
    @discardableResult
    private func client(_ tool: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try XCTUnwrap(ServiceClientsTests.which(tool), "\(tool) is not installed"))
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["MAPBOX_API"] = "http://127.0.0.1:\(port)"
        env["MAPBOX_ACCESS_TOKEN"] = token
        env["MAPTILER_TOKEN"] = token
        p.environment = env
        p.currentDirectoryURL = URL(fileURLWithPath: work)
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: work + "/" + name, atomically: true, encoding: .utf8)
    }

    func testMapboxTilesetsCLI() throws {
        guard ServiceClientsTests.which("tilesets") != nil else {
            throw XCTSkip("mapbox-tilesets is not installed (pip install mapbox-tilesets)")
        }
        try write("pts.geojsonl", (0..<20).map { i in
            #"{"type":"Feature","properties":{"n":\#(i)},"geometry":{"type":"Point","coordinates":[\#(10 + Double(i) / 10),\#(50 + Double(i) / 20)]}}"#
        }.joined(separator: "\n") + "\n")
        try write("recipe.json", #"{"version":1,"layers":{"pts":{"source":"mapbox://tileset-source/alice/pts","minzoom":0,"maxzoom":4}}}"#)
        try write("recipe2.json", #"{"version":1,"layers":{"points":{"source":"mapbox://tileset-source/alice/pts","minzoom":0,"maxzoom":3}}}"#)

        var r = try client("tilesets", ["upload-source", "alice", "pts", "pts.geojsonl", "--quiet"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        XCTAssertEqual(try json(r.out)["id"], "mapbox://tileset-source/alice/pts")
        XCTAssertEqual(try json(r.out)["files"], 1)
        r = try client("tilesets", ["upload-source", "alice", "pts", "pts.geojsonl", "--quiet", "--replace"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        XCTAssertEqual(try json(r.out)["files"], 1, "replace leaves one file")

        r = try client("tilesets", ["list-sources", "alice"])
        XCTAssertEqual(r.out.split(separator: "\n"), ["mapbox://tileset-source/alice/pts"], r.err)
        r = try client("tilesets", ["view-source", "alice", "pts"])
        XCTAssertEqual(try json(r.out)["files"], 1, r.err)
        XCTAssertNotNil(try json(r.out)["size_nice"]?.stringValue)
        XCTAssertEqual(try json(r.out)["feature_count"], 20, "counted by the source index: \(r.out)")

        r = try client("tilesets", ["validate-recipe", "recipe.json"])
        XCTAssertEqual(try json(r.out)["valid"], true, r.err + r.out)
        r = try client("tilesets", ["create", "alice.places", "--recipe", "recipe.json", "--name", "Places"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(try json(r.out)["message"]?.stringValue?.hasPrefix("Successfully created empty tileset alice.places") == true, r.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/recipes/places.json"))

        r = try client("tilesets", ["publish", "alice.places"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        let jobID = try XCTUnwrap(try json(r.out)["jobId"]?.stringValue)
        XCTAssertTrue(waitUntil(timeout: 60) {
            (try? self.harness.status())?["jobs"]?["success"]?.intValue ?? 0 >= 1 && self.harness.log.contains("tileset places: published")
        }, harness.log)
        r = try client("tilesets", ["status", "alice.places"])
        XCTAssertEqual(try json(r.out)["latest_job"]?.stringValue, jobID)
        r = try client("tilesets", ["jobs", "alice.places", "--stage", "success"])
        // Writing the recipe may have queued a job of its own (recipes act when they change).
        XCTAssertTrue(try json(r.out).arrayValue?.map { $0["id"]?.stringValue }.contains(jobID) == true, r.out)
        XCTAssertEqual(try json(r.out).arrayValue?.first?["id"]?.stringValue, jobID, "newest first")
        r = try client("tilesets", ["job", "alice.places", jobID])
        XCTAssertEqual(try json(r.out)["tilesetId"], "alice.places")
        XCTAssertNotNil(try json(r.out)["layer_stats"]?["pts"]?["total_tiles"])
        XCTAssertEqual(try json(r.out)["recipe"]?["layers"]?["pts"]?["maxzoom"], 4, "the recipe the job ran with")
        let area = try XCTUnwrap(try json(r.out)["tileset_precisions"]?["10m"]?.doubleValue, r.out)
        XCTAssertGreaterThan(area, 0, "km² of the tiles made at maxzoom 4")
        XCTAssertLessThan(area, 510_000_000)

        r = try client("tilesets", ["tilejson", "alice.places"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        XCTAssertEqual(try json(r.out)["vector_layers"]?.arrayValue?.first?["id"], "pts", r.out)

        r = try client("tilesets", ["view-recipe", "alice.places"])
        XCTAssertEqual(try json(r.out)["recipe"]?["layers"]?["pts"]?["maxzoom"], 4, r.err + r.out)
        r = try client("tilesets", ["update-recipe", "alice.places", "recipe2.json"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        XCTAssertTrue(r.err.contains("Updated recipe."), r.err)
        r = try client("tilesets", ["view-recipe", "alice.places"])
        XCTAssertNotNil(try json(r.out)["recipe"]?["layers"]?["points"], r.out)

        r = try client("tilesets", ["list", "alice"])
        XCTAssertTrue(r.out.split(separator: "\n").contains("alice.places"), r.err + r.out)
        r = try client("tilesets", ["list", "alice", "--visibility", "private", "--verbose"])
        XCTAssertEqual(try json(r.out)["visibility"], "private", "MTS-created tilesets are private by default")

        r = try client("tilesets", ["delete-source", "alice", "pts", "--force"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        XCTAssertTrue(r.out.contains("Source deleted."))
        r = try client("tilesets", ["list-sources", "alice"])
        XCTAssertEqual(r.out.trimmingCharacters(in: .whitespacesAndNewlines), "")
        r = try client("tilesets", ["delete", "alice.places", "--force"])
        XCTAssertTrue(r.out.contains("Tileset deleted."), r.err + r.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/recipes/places.json"))
    }

    func testMapTilerCloudCLIIngestsATilesetContainer() throws {
        guard ServiceClientsTests.which("maptiler-cloud") != nil else {
            throw XCTSkip("maptiler-cloud-cli is not installed (pip install maptiler-cloud-cli)")
        }
        try write("recipe.json", #"{"version":1,"layers":{"pts":{"source":"pts.geojsonl","minzoom":0,"maxzoom":3}}}"#)
        try write("pts.geojsonl", #"{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point","coordinates":[10,50]}}"# + "\n")
        let published = try harness.cli(["publish", work + "/recipe.json", "-o", work + "/trails.mbtiles"])
        XCTAssertEqual(published.status, 0, published.stderr)

        let base = ["--token", token, "--base-url", "http://127.0.0.1:\(port)"]
        var r = try client("maptiler-cloud", base + ["tiles", "ingest", "trails.mbtiles"])
        XCTAssertEqual(r.status, 0, r.err + r.out + harness.log)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(4)), ["Starting", "Uploading", "Processing", "Finished"], r.out + r.err)
        let document = try XCTUnwrap(lines.last.flatMap { UUID(uuidString: $0) }, "the tileset's document_id")
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/tiles/trails.mbtiles"))

        // Again into the same document, by its UUID.
        r = try client("maptiler-cloud", base + ["tiles", "ingest", "--document-id", document.uuidString.lowercased(), "trails.mbtiles"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        XCTAssertEqual(r.out.split(separator: "\n").last.map(String.init), document.uuidString.lowercased(), "a stable UUID per tileset")

        // A wrong token is refused in MapTiler's error shape.
        r = try client("maptiler-cloud", ["--token", "tk.bad.bad", "--base-url", "http://127.0.0.1:\(port)", "tiles", "ingest", "trails.mbtiles"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("Could not create ingest"), r.err)
    }

    func testMapHubAppendWithCurlAsTheSeedShows() throws {
        let curl = try XCTUnwrap(ServiceClientsTests.which("curl"), "curl is needed")
        try write("test.kml", """
            <?xml version="1.0" encoding="UTF-8"?>
            <kml xmlns="http://www.opengis.net/kml/2.2"><Document>
            <Placemark><name>Hut</name><Point><coordinates>8.5,47.3</coordinates></Point></Placemark>
            </Document></kml>
            """)
        func append(_ arg: String, auth: String = "Token \(token)") throws -> (Int, JSONValue) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: curl)
            p.arguments = ["-s", "-w", "\n%{http_code}", "--header", "Authorization: \(auth)", "--header", "MapHub-API-Arg: \(arg)",
                           "--data-binary", "@" + work + "/test.kml", "http://127.0.0.1:\(port)/api/1/map/append"]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            let parts = text.split(separator: "\n")
            return (Int(parts.last ?? "") ?? 0, (try? JSONParser.parse(String(parts.dropLast().joined(separator: "\n")))) ?? .null)
        }
        var (status, body) = try append(#"{"map_id": "huts", "file_type": "kml", "new_group": "Summer"}"#)
        XCTAssertEqual(status, 200, "\(body)")
        for field in ["id", "url", "owner", "short_name", "title", "visibility"] { XCTAssertNotNil(body[field], field) }
        XCTAssertEqual(body["id"], "huts")
        XCTAssertEqual(body["owner"], "alice")
        XCTAssertEqual(body["groups"]?.arrayValue?.compactMap { $0["title"]?.stringValue }, ["Summer"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.root + "/archive/huts/append.kml"), "ingested like a drop")

        (status, body) = try append(#"{"map_id": "huts", "file_type": "shp"}"#)
        XCTAssertEqual(status, 400)
        XCTAssertTrue(body["message"]?.stringValue?.contains("file_type") == true, "\(body)")
        (status, _) = try append(#"{"map_id": "huts", "file_type": "kml"}"#, auth: "Token wrong")
        XCTAssertEqual(status, 401)
    }
}
