import Foundation

import XCTest
@testable import Daemon
import Storage
import SystemSupport

final class DaemonConfigTests: XCTestCase {
    func testParsesKeysAndRejectsTyposWithTheLine() throws {
        let path = NSTemporaryDirectory() + "tiledrop-conf-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# comment\nroot = /srv/td\nsettle_seconds = 0.5  # inline\nmax_file_size = 15M\nafter_success = delete\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try DaemonConfig.load(path: path, rootOverride: nil)
        XCTAssertEqual(c.root, "/srv/td")
        XCTAssertEqual(c.settleSeconds, 0.5)
        XCTAssertEqual(c.maxFileBytes, 15_000_000)
        XCTAssertEqual(c.afterSuccess, "delete")
        XCTAssertEqual(c.socketPath, "/srv/td/tiledrop.sock")
        XCTAssertEqual(try DaemonConfig.load(path: path, rootOverride: "/other").root, "/other")

        try "settle_seconds = 1\nsetle_seconds = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonConfig.load(path: path, rootOverride: nil)) { e in
            XCTAssertTrue("\(e)".contains(":2:"), "\(e)")
            XCTAssertTrue("\(e)".contains("setle_seconds"))
        }
        try "max_file_size = lots\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DaemonConfig.load(path: path, rootOverride: nil))
    }
}

final class DropNamesTests: XCTestCase {
    func testIgnoresTemporaryAndJunkNames() {
        for name in [".hidden", "a.part", "b.crdownload", "c.filepart", "d.tmp", "~$e.kml", "f.swp", "g~", "Thumbs.db", ".DS_Store"] {
            XCTAssertTrue(DropNames.isIgnored(name), name)
        }
        for name in ["track.gpx", "map.kml", "x.geojson", "a.b.kmz"] {
            XCTAssertFalse(DropNames.isIgnored(name), name)
        }
    }

    func testMapNamesFollowMTSSourceIDs() {
        XCTAssertTrue(DropNames.isValidMapName("countries_2024-v1"))
        XCTAssertFalse(DropNames.isValidMapName("has space"))
        XCTAssertFalse(DropNames.isValidMapName(String(repeating: "a", count: 33)))
        XCTAssertEqual(TilesetSourceURI.map(from: "tiledrop://tileset-source/rivers"), "rivers")
        XCTAssertNil(TilesetSourceURI.map(from: "rivers.geojson"))
    }
}

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        var h = SHA256()
        XCTAssertEqual(h.finalize(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        h = SHA256()
        h.update(Array("abc".utf8))
        XCTAssertEqual(h.finalize(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Fed in uneven chunks across block boundaries.
        h = SHA256()
        let text = Array(String(repeating: "a", count: 1_000).utf8)
        for chunk in stride(from: 0, to: text.count, by: 37) { h.update(Array(text[chunk..<min(chunk + 37, text.count)])) }
        XCTAssertEqual(h.finalize(), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

final class HTTPMessageTests: XCTestCase {
    func testParsesRequestLineAndQuery() throws {
        let r = try XCTUnwrap(HTTPRequest(head: Array("GET /v1/ingests?state=failed&limit=5 HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        XCTAssertEqual(r.method, "GET")
        XCTAssertEqual(r.path, "/v1/ingests")
        XCTAssertEqual(r.query, ["state": "failed", "limit": "5"])
        XCTAssertNil(HTTPRequest(head: Array("garbage\r\n\r\n".utf8)))
        XCTAssertTrue(HTTPRequest.isComplete(Array("GET / HTTP/1.1\r\n\r\n".utf8)))
        XCTAssertFalse(HTTPRequest.isComplete(Array("GET / HTTP/1.1\r\n".utf8)))
        let response = String(decoding: HTTPResponse.error(404, "nope").bytes, as: UTF8.self)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        XCTAssertTrue(response.hasSuffix("{\"message\":\"nope\"}\n"))
    }
}

final class DropWatcherTests: XCTestCase {
    func testFileBecomesReadyOnlyAfterItSettles() throws {
        let root = NSTemporaryDirectory() + "tiledrop-watch-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let drop = root + "/drop"
        try FileManager.default.createDirectory(atPath: drop + "/m/grp", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: drop + "/m/existing.geojson", contents: Data("{}".utf8))
        let watcher = try DropWatcher(dropDir: drop, settleSeconds: 0.2, fileSystem: FileSystem(), logger: Logger(level: .error))
        let clock = MonotonicClock()
        try watcher.start(now: clock.now())
        XCTAssertEqual(watcher.maps, ["m"])
        XCTAssertTrue(watcher.takeReady(now: clock.now()).isEmpty, "not settled yet")
        XCTAssertEqual(watcher.takeReady(now: clock.now() + 1).map(\.name), ["existing.geojson"])

        FileManager.default.createFile(atPath: drop + "/m/grp/new.gpx", contents: Data("<gpx/>".utf8))
        FileManager.default.createFile(atPath: drop + "/m/skip.part", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: drop + "/m/empty.kml", contents: Data())
        _ = try Poller().waitReadable([watcher.fileDescriptor], timeout: 2)
        try watcher.handleEvents(now: clock.now())
        let ready = watcher.takeReady(now: clock.now() + 1)
        XCTAssertEqual(ready.map(\.name), ["new.gpx"], "temp names and empty files wait")
        XCTAssertEqual(ready.first?.group, "grp")
        XCTAssertEqual(ready.first?.map, "m")

        try FileManager.default.createDirectory(atPath: drop + "/bad name", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: drop + "/second", withIntermediateDirectories: true)
        _ = try Poller().waitReadable([watcher.fileDescriptor], timeout: 2)
        try watcher.handleEvents(now: clock.now())
        XCTAssertEqual(watcher.maps, ["m", "second"], "new map folders are watched")
        XCTAssertTrue(watcher.warnings.values.contains { $0.contains("bad name") })
    }
}

final class StatusServerTests: XCTestCase {
    func testMutatingRequestsNeedRootOrTheDaemonsUser() throws {
        let root = NSTemporaryDirectory() + "tiledrop-status-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = DaemonConfig(root: root)
        let store = try StateStore(path: config.statePath)
        try store.with { db throws(StorageError) in
            try db.insertIngest(.init(id: "i1", map: "m", group: nil, filename: "f.kml", size: 1, state: .processing,
                                      originalPath: "/x", workPath: "/y", createdAt: 1, updatedAt: 1))
        }
        let cancellations = LockedStringSet()
        let server = StatusServer(config: config, live: LiveStatusBox(), cancellations: cancellations, logger: Logger(level: .error))
        let cancel = HTTPRequest(head: Array("POST /v1/ingests/i1/cancel HTTP/1.1\r\n\r\n".utf8))!
        XCTAssertEqual(server.respond(to: cancel, peerUID: 4242 == getuid() ? 4243 : 4242).status, 403)
        XCTAssertFalse(cancellations.contains("i1"))
        XCTAssertEqual(server.respond(to: cancel, peerUID: getuid()).status, 200)
        XCTAssertTrue(cancellations.contains("i1"), "the worker sees the request")
        let status = server.respond(to: HTTPRequest(head: Array("GET /v1/status HTTP/1.1\r\n\r\n".utf8))!, peerUID: 1000)
        XCTAssertEqual(status.body["ingests"]?["processing"]?.intValue, 1)
        XCTAssertEqual(server.respond(to: HTTPRequest(head: Array("DELETE /v1/status HTTP/1.1\r\n\r\n".utf8))!, peerUID: 0).status, 405)
    }
}

final class DiskSpaceTests: XCTestCase {
    func testRecognisesFullDisksFromEveryModule() {
        XCTAssertTrue(DiskSpace.isExhaustion(SystemError(call: "write", errno: ENOSPC)))
        XCTAssertTrue(DiskSpace.isExhaustion(SystemError(call: "write", errno: EDQUOT)))
        XCTAssertTrue(DiskSpace.isExhaustion(StorageError.sqlite(path: "x", code: 13, message: "full")))
        XCTAssertTrue(DiskSpace.isExhaustion(DaemonError.system(SystemError(call: "fsync", errno: ENOSPC))))
        XCTAssertFalse(DiskSpace.isExhaustion(SystemError(call: "open", errno: ENOENT)))
        XCTAssertFalse(DiskSpace.isExhaustion(StorageError.sqlite(path: "x", code: 1, message: "syntax")))
        XCTAssertFalse(DiskSpace.isExhaustion(DaemonError.other("bad file")))
    }
}
