import API
import Foundation
import GeoModel
import HTTP
import XCTest
@testable import Daemon
import Storage
import SystemSupport

/// The operator routes over the daemon's real backend (a real state.db on a temporary root).
final class OperatorRoutesTests: XCTestCase {
    func testStatusIngestsAndCancelNeedingTheLocalAdmin() throws {
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
        let backend = DaemonBackend(config: config, live: LiveStatusBox(), cancellations: cancellations, logger: logger,
                                    recipes: RecipeBook(config: config, fileSystem: FileSystem(), logger: logger), jobProgress: JobProgressBox())
        let router = APIRoutes.router(backend: backend)
        let other: uid_t = getuid() == 4242 ? 4243 : 4242
        let reader = try TokenStore(path: config.tokensPath).create(owner: "alice", scopes: ["tilesets:read"], now: 1).token
        let writer = try TokenStore(path: config.tokensPath).create(owner: "alice", scopes: ["tilesets:read", "tilesets:write"], now: 1).token
        func send(_ method: String, _ target: String, uid: uid_t?, token: String? = nil) throws -> Response {
            let headers = HTTPHeaders(token.map { [("Authorization", "Token " + $0)] } ?? [])
            return try router.respond(to: Request(method: method, target: target, headers: headers,
                                                  peer: Peer(uid: uid, address: uid == nil ? "127.0.0.1:1" : "unix")))
        }
        func json(_ r: Response) throws -> JSONValue {
            guard case .bytes(let b) = r.body else { throw HTTPError(500, "file body") }
            return try JSONParser.parse(b)
        }
        XCTAssertEqual(try send("POST", "/v1/ingests/i1/cancel", uid: other).status, 403)
        XCTAssertEqual(try send("POST", "/v1/ingests/i1/cancel", uid: nil).status, 401, "TCP clients are never the local admin")
        XCTAssertEqual(try send("POST", "/v1/ingests/i1/cancel", uid: nil, token: reader).status, 403, "scope tilesets:write missing")
        XCTAssertFalse(cancellations.contains("i1"))
        XCTAssertEqual(try send("POST", "/v1/ingests/i1/cancel", uid: getuid()).status, 200)
        XCTAssertTrue(cancellations.contains("i1"), "the worker sees the request")
        XCTAssertEqual(try send("POST", "/v1/ingests/nope/cancel", uid: nil, token: writer).status, 404, "a token with the scope may")
        let status = try send("GET", "/v1/status", uid: 1000)
        XCTAssertEqual(try json(status)["ingests"]?["processing"]?.intValue, 1)
        XCTAssertEqual(try json(status)["root"]?.stringValue, root)
        XCTAssertEqual(try json(status)["active"]?["ingests"]?.arrayValue?.first?["filename"]?.stringValue, "f.kml", "status --watch shows running ingests")
        XCTAssertEqual(try json(status)["last_job"], .null)
        // The last finished job's warnings are in the status (tiledrop status prints them).
        try store.with { db throws(StorageError) in
            _ = try db.enqueueJob(tileset: "trails", id: "j0", now: 1)
            guard var job = try db.nextQueuedJob() else { return }
            job.stage = .success
            job.published = 2
            job.warnings = ["12 feature(s) were dropped from tiles whose layer exceeded layer_size; worst tiles: 3/4/2 (trails, 12 dropped)"]
            try db.updateJob(job)
        }
        let after = try json(try send("GET", "/v1/status", uid: 1000))
        XCTAssertEqual(after["last_job"]?["tileset"]?.stringValue, "trails")
        XCTAssertEqual(after["last_job"]?["warnings"]?.arrayValue?.first?.stringValue?.contains("worst tiles: 3/4/2"), true)
        XCTAssertEqual(try send("GET", "/v1/ingests?state=processing", uid: nil).status, 401, "reads over TCP need a token")
        XCTAssertEqual(try json(try send("GET", "/v1/ingests?state=processing", uid: nil, token: reader)).arrayValue?.count, 1)
        XCTAssertEqual(try json(try send("GET", "/v1/ingests/i1", uid: other))["document_id"]?.stringValue, "m", "reads are open on the socket")
        XCTAssertEqual(try send("GET", "/v1/ingests/i2", uid: nil, token: reader).status, 404)
        XCTAssertEqual(try send("DELETE", "/v1/status", uid: 0).status, 405)
        XCTAssertEqual(try json(try send("GET", "/v1/maps", uid: other)).arrayValue?.count, 0)
    }
}
