import Foundation
import XCTest
@testable import Daemon
import Storage
import SystemSupport

final class StatusServerTests: XCTestCase {
    func testMutatingRequestsNeedRootOrTheDaemonsUser() throws {
        let root = NSTemporaryDirectory() + "tiledrop-status-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = DaemonConfig(root: root)
        let store = try StateStore(path: config.statePath, root: config.root)
        try store.with { db throws(StorageError) in
            try db.insertIngest(.init(id: "i1", map: "m", group: nil, filename: "f.kml", size: 1, state: .processing,
                                      originalPath: "/x", workPath: "/y", createdAt: 1, updatedAt: 1))
        }
        let cancellations = LockedStringSet()
        let logger = Logger(level: .error)
        let server = StatusServer(config: config, live: LiveStatusBox(), cancellations: cancellations, logger: logger,
                                  recipes: RecipeBook(config: config, fileSystem: FileSystem(), logger: logger), jobProgress: JobProgressBox(),
                                  republish: RepublishHandler(republish: { $0 == "trails" ? .queued(jobID: "j1") : .unknownTileset }))
        let cancel = HTTPRequest(head: Array("POST /v1/ingests/i1/cancel HTTP/1.1\r\n\r\n".utf8))!
        XCTAssertEqual(server.respond(to: cancel, peerUID: 4242 == getuid() ? 4243 : 4242).status, 403)
        XCTAssertFalse(cancellations.contains("i1"))
        XCTAssertEqual(server.respond(to: cancel, peerUID: getuid()).status, 200)
        XCTAssertTrue(cancellations.contains("i1"), "the worker sees the request")
        let status = server.respond(to: HTTPRequest(head: Array("GET /v1/status HTTP/1.1\r\n\r\n".utf8))!, peerUID: 1000)
        XCTAssertEqual(status.body["ingests"]?["processing"]?.intValue, 1)
        XCTAssertEqual(status.body["active"]?["ingests"]?.arrayValue?.first?["filename"]?.stringValue, "f.kml", "status --watch shows running ingests")
        XCTAssertEqual(status.body["last_job"], .null)
        // The last finished job's warnings are in the status (tiledrop status prints them).
        try store.with { db throws(StorageError) in
            _ = try db.enqueueJob(tileset: "trails", id: "j0", now: 1)
            guard var job = try db.nextQueuedJob() else { return }
            job.stage = .success
            job.published = 2
            job.warnings = ["12 feature(s) were dropped from tiles whose layer exceeded layer_size; worst tiles: 3/4/2 (trails, 12 dropped)"]
            try db.updateJob(job)
        }
        let after = server.respond(to: HTTPRequest(head: Array("GET /v1/status HTTP/1.1\r\n\r\n".utf8))!, peerUID: 1000)
        XCTAssertEqual(after.body["last_job"]?["tileset"]?.stringValue, "trails")
        XCTAssertEqual(after.body["last_job"]?["warnings"]?.arrayValue?.first?.stringValue?.contains("worst tiles: 3/4/2") , true)
        let republish = server.respond(to: HTTPRequest(head: Array("POST /tilesets/v1/trails/publish HTTP/1.1\r\n\r\n".utf8))!, peerUID: 1000)
        XCTAssertEqual(republish.status, 200)
        XCTAssertEqual(republish.body["jobId"]?.stringValue, "j1")
        XCTAssertEqual(server.respond(to: HTTPRequest(head: Array("POST /tilesets/v1/nope/publish HTTP/1.1\r\n\r\n".utf8))!, peerUID: 1000).status, 404)
        XCTAssertEqual(server.respond(to: HTTPRequest(head: Array("DELETE /v1/status HTTP/1.1\r\n\r\n".utf8))!, peerUID: 0).status, 405)
    }
}
