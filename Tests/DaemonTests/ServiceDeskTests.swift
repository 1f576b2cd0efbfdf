import API
import Foundation
import GeoModel
import Storage
import SystemSupport
import XCTest
@testable import Daemon

/// The daemon side of the service APIs, on a real temporary root with the real ingest worker
/// and publish queue: uploads land like drops, MapTiler uploads resume, tilesets and jobs.
final class ServiceDeskTests: XCTestCase {
    private var fixture: TemporaryDesk!
    private var root: String { fixture.root }
    private var desk: ServiceDesk { fixture.desk }

    override func setUpWithError() throws {
        fixture = try TemporaryDesk(prefix: "tiledrop-desk-") { $0.defaultMaxzoom = 3 }
    }

    override func tearDownWithError() throws {
        fixture.tearDown()
    }

    private let point = #"{"type":"Feature","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[10,50]}}"# + "\n"

    private func stage(_ text: String, map: String) throws -> String {
        let path = try desk.newStagingFile(map: map)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testAnUploadLandsLikeADropAndSourcesCountFiles() throws {
        let staged = try stage(point + point, map: "hello")
        XCTAssertTrue(FileSystem.name(of: staged).hasPrefix("."), "hidden from the watcher")
        let first = try desk.ingestStaged(staged, map: "hello", filename: "hello.geojsonl", group: nil, replace: false)
        XCTAssertEqual(first.state, .completed)
        XCTAssertEqual(first.featureCount, 2)
        XCTAssertNil(try FileSystem().status(staged), "claimed by rename")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/archive/hello/hello.geojsonl"), "archived like a drop")

        let second = try desk.ingestStaged(try stage(point.replacingOccurrences(of: "\"a\"", with: "\"b\""), map: "hello"),
                                           map: "hello", filename: "b.geojsonl", group: "trip", replace: false)
        XCTAssertEqual(second.state, .completed)
        var sources = try desk.sources()
        XCTAssertEqual(sources.map(\.map), ["hello"])
        XCTAssertEqual(sources.first?.files, 2)

        let replaced = try desk.ingestStaged(try stage(point, map: "hello"), map: "hello", filename: "r.geojsonl", group: nil, replace: true)
        XCTAssertEqual(replaced.state, .completed)
        sources = try desk.sources()
        XCTAssertEqual(sources.first?.files, 1, "replace leaves one file")
        XCTAssertEqual(try desk.maps().first?.groups, ["trip"])

        XCTAssertTrue(try desk.deleteSource(map: "hello"))
        XCTAssertEqual(try desk.sources().count, 0)
        XCTAssertFalse(try desk.deleteSource(map: "hello"))
    }

    func testABrokenUploadFailsWithTheReasonAndLeavesNothingInTheDropArea() throws {
        let record = try desk.ingestStaged(try stage("{not json", map: "bad"), map: "bad", filename: "x.geojson", group: nil, replace: false)
        XCTAssertEqual(record.state, .failed)
        XCTAssertFalse(record.errors.isEmpty)
        let left = try FileSystem().list(root + "/drop/bad").filter { $0 != ".tiledrop" }
        XCTAssertEqual(left, [])
        let refused = try desk.newStagingFile(map: "fresh")
        desk.discardStaged(refused)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/drop/fresh"), "a refused upload leaves no new map folder")
        XCTAssertThrowsError(try desk.newStagingFile(map: "../etc")) { XCTAssertEqual(($0 as? ServiceError)?.message.contains("not valid"), true) }
    }

    func testTilesetsRecipesAndPublishJobs() throws {
        _ = try desk.ingestStaged(try stage(point, map: "pois"), map: "pois", filename: "p.geojsonl", group: nil, replace: false)
        XCTAssertTrue(waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: self.root + "/tiles/pois.mbtiles") })
        let pois = try XCTUnwrap(try desk.tilesets().first { $0.record.id == "pois" }, "the map's own default tileset")
        XCTAssertFalse(pois.record.isPrivate, "tilesets from drops are public")
        XCTAssertEqual(pois.record.uuid, try desk.maps().first { $0.id == "pois" }?.uuid, "map and tileset of one name share the UUID")
        let recipe = try JSONParser.parse(#"{"version":1,"layers":{"pois":{"source":"mapbox://tileset-source/alice/pois","minzoom":0,"maxzoom":2}}}"#)
        XCTAssertEqual(desk.sourceProblems(recipe: recipe), [])
        let missing = try JSONParser.parse(#"{"version":1,"layers":{"x":{"source":"mapbox://tileset-source/alice/nope","minzoom":0,"maxzoom":2}}}"#)
        XCTAssertEqual(desk.sourceProblems(recipe: missing).count, 1)

        let record = TilesetRecord(id: "places", name: "Places", isPrivate: true, created: 1, modified: 1)
        try desk.createTileset(record, recipe: recipe)
        XCTAssertThrowsError(try desk.createTileset(record, recipe: recipe)) { XCTAssertEqual($0 as? ServiceError, .conflict("tileset alice.places already exists")) }
        XCTAssertEqual(try desk.recipe(tileset: "places"), recipe)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/recipes/places.json"))

        let jobID = try desk.publish(tileset: "places")
        XCTAssertTrue(waitUntil(timeout: 20) { (try? self.desk.job(id: jobID))??.stage == .success }, "job finished: \(String(describing: try? desk.job(id: jobID)))")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/tiles/places.mbtiles"))
        XCTAssertTrue(try desk.jobs(tileset: "places", stage: .success, limit: 10).map(\.id).contains(jobID), "the recipe change may have queued one more")
        XCTAssertEqual(try desk.jobs(tileset: "places", stage: .failed, limit: 10).count, 0)

        let listed = try desk.tilesets()
        let places = try XCTUnwrap(listed.first { $0.record.id == "places" })
        XCTAssertTrue(places.record.isPrivate)
        XCTAssertGreaterThan(places.filesize, 0)
        XCTAssertEqual(places.center?.count, 3)
        // Issue 9: once a recipe uses the map, its default tileset is retired to archive/tiles/.
        XCTAssertTrue(waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: self.root + "/archive/tiles/pois.mbtiles") })
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/tiles/pois.mbtiles"))

        XCTAssertTrue(try desk.deleteTileset("places"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/recipes/places.json"))
        XCTAssertFalse(try desk.deleteTileset("places"))
        XCTAssertThrowsError(try desk.publish(tileset: "places"))
    }

    func testAMapTilerUploadArrivesInChunksResumesAndIsProcessed() throws {
        let content = Array((point + point + point).utf8)
        let ingest = try desk.createIngest(filename: "trails.geojsonl", size: Int64(content.count), map: nil)
        XCTAssertEqual(ingest.state, .upload)
        XCTAssertEqual(ingest.map, "trails")
        XCTAssertEqual(try desk.uploadedBytes(ingest: ingest), 0)
        func append(_ bytes: ArraySlice<UInt8>, at start: Int64) throws -> Int64 {
            try desk.appendChunk(ingest: ingest, start: start, length: Int64(bytes.count)) { fd in
                XCTAssertEqual(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, bytes.count)
            }
        }
        XCTAssertEqual(desk.uploadKey(ingest: ingest)?.count, 32, "the upload URL's secret")
        XCTAssertEqual(try append(content[0..<40], at: 0), 40)
        XCTAssertThrowsError(try desk.processIngest(id: ingest.id), "incomplete")
        // A chunk starting beyond the stored bytes is refused with where to resume.
        XCTAssertThrowsError(try append(content[60...], at: 60)) {
            XCTAssertEqual($0 as? ServiceError, .rangeMismatch(received: 40))
        }
        // A chunk shorter than announced is cut off again.
        XCTAssertThrowsError(try desk.appendChunk(ingest: ingest, start: 40, length: 10) { _ in })
        XCTAssertEqual(try desk.uploadedBytes(ingest: ingest), 40)
        // A restart keeps the partial upload (recovery leaves it alone) but removes an upload
        // that was cut off before it was recorded.
        let abandoned = try desk.newStagingFile(map: "trails")
        let current = try desk.newStagingFile(map: "trails")
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, abandoned, &times, 0), 0, "from an earlier run")
        desk.processor.recover()
        XCTAssertTrue(FileManager.default.fileExists(atPath: current), "an upload of this run stays")
        desk.discardStaged(current)
        XCTAssertFalse(FileManager.default.fileExists(atPath: abandoned))
        XCTAssertTrue(FileManager.default.fileExists(atPath: ingest.originalPath))
        XCTAssertEqual(try desk.ingest(id: ingest.id)?.state, .upload)
        // Overlapping resend from byte 30, then the rest.
        XCTAssertEqual(try append(content[30...], at: 30), Int64(content.count))
        _ = try desk.processIngest(id: ingest.id)
        XCTAssertTrue(waitUntil(timeout: 20) { (try? self.desk.ingest(id: ingest.id))??.state == .completed })
        XCTAssertEqual(try desk.ingest(id: ingest.id)?.featureCount, 3)
        XCTAssertEqual(try desk.documentName(try desk.documentID(map: "trails")), "trails")
        XCTAssertEqual(try desk.documentName("trails"), "trails")
        XCTAssertNil(try desk.documentName("00000000-0000-4000-8000-000000000000"))

        let canceled = try desk.createIngest(filename: "x.kml", size: 10, map: "trails")
        XCTAssertEqual(try desk.cancelIngest(id: canceled.id).state, .canceled)
        XCTAssertFalse(FileManager.default.fileExists(atPath: canceled.originalPath), "the part file is removed")
        XCTAssertThrowsError(try desk.cancelIngest(id: canceled.id))
        XCTAssertThrowsError(try desk.createIngest(filename: "big.kml", size: 1 << 50, map: nil)) {
            guard case .tooLarge? = $0 as? ServiceError else { return XCTFail("\($0)") }
        }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
private func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
