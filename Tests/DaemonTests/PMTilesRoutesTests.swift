import API
import Foundation
import GeoModel
import HTTP
import XCTest
@testable import Daemon
import Storage
import SystemSupport

/// `GET /pmtiles/{tileset}.pmtiles` over the daemon's real backend and a real archive:
/// ranges (206, 416), `Accept-Ranges`, `ETag` with `If-None-Match` and `If-Range`.
final class PMTilesRoutesTests: XCTestCase {
    func testServesTheArchiveWithRangesAndETags() throws {
        let root = NSTemporaryDirectory() + "tiledrop-pmroute-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root + "/tiles", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = DaemonConfig(root: root)
        let logger = Logger(level: .error)
        let backend = DaemonBackend(config: config, live: LiveStatusBox(), cancellations: LockedStringSet(), logger: logger,
                                    recipes: RecipeBook(config: config, fileSystem: FileSystem(), logger: logger), jobProgress: JobProgressBox())
        let router = APIRoutes.router(backend: backend)
        let writer = try PMTilesWriter(path: root + "/tiles/trails.pmtiles")
        for x in 0..<4 { for y in 0..<4 { try writer.write(TileID(z: 2, x: x, y: y), data: [0x1F, 0x8B] + Array(repeating: UInt8(x * 4 + y), count: 50)) } }
        try writer.finish(metadata: [("name", "trails"), ("format", "pbf"), ("json", #"{"vector_layers":[]}"#)])
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: root + "/tiles/trails.pmtiles")))

        func get(_ path: String, _ headers: [(String, String)] = []) throws -> (Response, [UInt8]) {
            let r = try router.respond(to: Request(method: "GET", target: path, headers: HTTPHeaders(headers), peer: Peer(uid: getuid(), address: "unix")))
            guard case .file(let body) = r.body else { return (r, []) }
            var bytes = [UInt8](repeating: 0, count: Int(body.length))
            let n = bytes.withUnsafeMutableBytes { pread(body.fileDescriptor, $0.baseAddress, $0.count, off_t(body.offset)) }
            XCTAssertEqual(n, Int(body.length))
            return (r, bytes)
        }
        let (whole, all) = try get("/pmtiles/trails.pmtiles")
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(all, file)
        XCTAssertEqual(whole.headers["Accept-Ranges"], "bytes")
        XCTAssertEqual(whole.headers["Content-Type"], "application/vnd.pmtiles")
        let etag = try XCTUnwrap(whole.headers["ETag"])

        // What a PMTiles client does first: the header and root directory in one range.
        let (head, headBytes) = try get("/pmtiles/trails.pmtiles", [("Range", "bytes=0-16383")])
        XCTAssertEqual(head.status, 206)
        XCTAssertEqual(head.headers["Content-Range"], "bytes 0-\(file.count - 1)/\(file.count)")
        XCTAssertEqual(headBytes, file)
        let (tail, tailBytes) = try get("/pmtiles/trails.pmtiles", [("Range", "bytes=-52")])
        XCTAssertEqual(tail.status, 206)
        XCTAssertEqual(tailBytes, Array(file.suffix(52)))
        XCTAssertEqual(try PMTilesHeader(bytes: try get("/pmtiles/trails.pmtiles", [("Range", "bytes=0-126")]).1, path: "range").tileType, .mvt)

        let (bad, _) = try get("/pmtiles/trails.pmtiles", [("Range", "bytes=\(file.count)-")])
        XCTAssertEqual(bad.status, 416)
        XCTAssertEqual(bad.headers["Content-Range"], "bytes */\(file.count)")
        XCTAssertEqual(try get("/pmtiles/trails.pmtiles", [("If-None-Match", etag)]).0.status, 304)
        XCTAssertEqual(try get("/pmtiles/trails.pmtiles", [("Range", "bytes=0-9"), ("If-Range", "\"stale\"")]).0.status, 200, "a stale If-Range gets the whole new file")
        XCTAssertEqual(try get("/pmtiles/trails.pmtiles", [("Range", "bytes=0-9"), ("If-Range", etag)]).0.status, 206)

        // A republish renames a new file into place: the ETag changes.
        let again = try PMTilesWriter(path: root + "/tiles/trails.pmtiles")
        try again.write(TileID(z: 0, x: 0, y: 0), data: [0x1F, 0x8B, 1])
        try again.finish(metadata: [("name", "trails"), ("format", "pbf"), ("json", #"{"vector_layers":[]}"#)])
        XCTAssertNotEqual(try get("/pmtiles/trails.pmtiles").0.headers["ETag"], etag)

        XCTAssertEqual(try get("/pmtiles/nope.pmtiles").0.status, 404)
        let overTCP = try router.respond(to: Request(method: "GET", target: "/pmtiles/trails.pmtiles", peer: Peer(address: "127.0.0.1:1")))
        XCTAssertEqual(overTCP.status, 401, "over TCP a tilesets:read token is needed")
        XCTAssertThrowsError(try get("/pmtiles/..%2Fstate.pmtiles"), "the router refuses encoded slashes (400)")
        XCTAssertEqual(try get("/pmtiles/.hidden.pmtiles").0.status, 404)
    }
}
