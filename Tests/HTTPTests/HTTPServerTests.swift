import Foundation
import XCTest
@testable import HTTP
import SystemSupport

final class HTTPServerTests: XCTestCase {
    private var dir = ""
    private var server: HTTPServer?
    private var socketPath: String { dir + "/s.sock" }
    private var uploads: String { dir + "/tmp" }

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tiledrop-http-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Holds `/long` handlers until signalled.
    private let longGate = DispatchSemaphore(value: 0)

    private func start(_ adjust: (inout ServerConfiguration) -> Void = { _ in }, admission: AdmissionCheck? = nil) throws {
        var router = Router()
        if let admission { router.setAdmission(admission) }
        let gate = longGate
        router.get("/long", options: RouteOptions(long: true)) { _ in
            gate.wait()
            return Response.message(200, "long")
        }
        router.get("/hello", options: RouteOptions(inline: true)) { _ in Response(status: 200, contentType: "text/plain", bytes: Array("hi".utf8)) }
        router.get("/slow") { _ in
            usleep(300_000)
            return Response(status: 200, contentType: "text/plain", bytes: Array("slow".utf8))
        }
        router.get("/whoami") { r in Response.message(200, "\(r.peer.uid.map(String.init) ?? "none") \(r.peer.isLocalAdmin)") }
        router.post("/upload") { r in
            switch r.body {
            case .none: return Response.message(200, "none")
            case .bytes(let b): return Response.message(200, "memory \(b.count)")
            case .file(let path, let size):
                let onDisk = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
                return Response.message(200, "file \(size) \(onDisk)")
            }
        }
        let filePath = dir + "/file.bin"
        try Data(repeating: 7, count: 300_000).write(to: URL(fileURLWithPath: filePath))
        router.get("/file") { _ in
            let fd = open(filePath, O_RDONLY)
            return Response(status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]), body: .file(FileBody(fileDescriptor: fd, length: 300_000)))
        }
        var config = ServerConfiguration(listen: [.unix(path: socketPath, mode: 0o600)], temporaryDirectory: uploads)
        config.maxBodyBytes = 1_000_000
        config.headTimeout = 1
        adjust(&config)
        let s = try HTTPServer(configuration: config, router: router, log: { _ in })
        s.start()
        server = s
    }

    private func body(_ r: (status: Int, headers: [String: String], body: [UInt8])?) -> String {
        String(decoding: r?.body ?? [], as: UTF8.self)
    }

    private func leftovers() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? [] }

    func testLongHandlersNeverHoldTheReadWorkers() throws {
        try start { $0.workerThreads = 1; $0.longWorkerThreads = 1 }
        let waiting = try (0..<3).map { _ in try TestClient(path: socketPath) }
        for c in waiting { try c.send("GET /long HTTP/1.1\r\n\r\n") }
        // Every long handler waits (one running, two queued on the long pool); reads go on.
        let reader = try TestClient(path: socketPath)
        for _ in 0..<3 {
            try reader.send("GET /slow HTTP/1.1\r\n\r\n")
            XCTAssertEqual(body(try reader.response()), "slow")
        }
        for _ in waiting { longGate.signal() }
        for c in waiting { XCTAssertEqual(body(try c.response()), "{\"message\":\"long\"}\n") }
    }

    func testAdmissionRefusesBeforeTheBodyAndAddsHeadersOtherwise() throws {
        try start(admission: { request in
            if request.headers["X-Over"] != nil { return .refuse(Response.message(429, "over")) }
            return .admit(headers: HTTPHeaders([("X-Counted", "1")]))
        })
        let c = try TestClient(path: socketPath)
        try c.send("GET /hello HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try c.response()?.headers["x-counted"], "1")
        // Refused with a body announced: answered at once, the body is not read, the connection closes.
        try c.send("POST /upload HTTP/1.1\r\nX-Over: 1\r\nContent-Length: 500000\r\nExpect: 100-continue\r\n\r\n")
        let refused = try c.response()
        XCTAssertEqual(refused?.status, 429)
        XCTAssertNil(refused?.headers["x-counted"])
        XCTAssertEqual(refused?.headers["connection"], "close")
        XCTAssertEqual(leftovers(), [])
    }

    func testKeepAlivePipeliningHeadAndFiles() throws {
        try start()
        let c = try TestClient(path: socketPath)
        try c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\n\r\n")
        let first = try c.response()
        XCTAssertEqual(first?.status, 200)
        XCTAssertEqual(body(first), "hi")
        XCTAssertNotNil(first?.headers["date"])
        // HEAD: the GET's Content-Length, no body; the next response follows directly.
        try c.send("")
        XCTAssertEqual(try c.response().map { $0.headers["content-length"] }, "2")
        XCTAssertEqual(body(try c.response()), "slow", "HEAD sent no body bytes; responses keep the request order")
        XCTAssertEqual(body(try c.response()), "hi")
        try c.send("GET /file HTTP/1.1\r\n\r\n")
        let file = try c.response()
        XCTAssertEqual(file?.body.count, 300_000)
        XCTAssertEqual(file?.body.allSatisfy { $0 == 7 }, true)
        try c.send("GET /whoami HTTP/1.1\r\nConnection: close\r\n\r\n")
        let who = try c.response()
        XCTAssertEqual(body(who), "{\"message\":\"\(getuid()) true\"}\n")
        XCTAssertEqual(who?.headers["connection"], "close")
        XCTAssertNil(try c.response(), "closed after Connection: close")
    }

    func testBodiesInMemoryOnDiskChunkedAndContinue() throws {
        try start { $0.memoryBodyBytes = 1000 }
        let c = try TestClient(path: socketPath)
        try c.send("POST /upload HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789")
        XCTAssertEqual(body(try c.response()), "{\"message\":\"memory 10\"}\n")
        let big = [UInt8](repeating: 65, count: 200_000)
        try c.send("POST /upload HTTP/1.1\r\nContent-Length: 200000\r\n\r\n")
        try c.send(big)
        XCTAssertEqual(body(try c.response()), "{\"message\":\"file 200000 200000\"}\n")
        try c.send("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try c.response()?.status, 100, "interim response before the body")
        try c.send("3\r\nabc\r\n")
        try c.send("800\r\n" + String(repeating: "z", count: 0x800) + "\r\n0\r\n\r\n")
        XCTAssertEqual(body(try c.response()), "{\"message\":\"file 2051 2051\"}\n")
        XCTAssertTrue(waitFor { self.leftovers().isEmpty }, "temporary files removed after the handler: \(leftovers())")
    }

    func testHostileRequestsGetA4xxAndLeaveNothingBehind() throws {
        try start { $0.memoryBodyBytes = 100 }
        func answer(_ raw: String, halfClose: Bool = false) throws -> Int? {
            let c = try TestClient(path: socketPath)
            try c.send(raw)
            if halfClose { shutdown(c.socket.fileDescriptor, Int32(SHUT_WR)) }
            return try c.response()?.status
        }
        XCTAssertEqual(try answer("POST /upload HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n"), 413)
        let overLimit = try TestClient(path: socketPath)
        try overLimit.send("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFF\r\n")
        try overLimit.send([UInt8](repeating: 120, count: 1_000_100))
        XCTAssertEqual(try overLimit.response()?.status, 413)
        XCTAssertEqual(try answer("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + String(repeating: "x", count: 300), halfClose: true), 400)
        XCTAssertEqual(try answer("POST /upload HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + String(repeating: "x", count: 300), halfClose: true), 400)
        XCTAssertEqual(try answer("GET /hello HTTP/1.1\r\nX: " + String(repeating: "a", count: 17_000) + "\r\n\r\n"), 431)
        XCTAssertEqual(try answer("GET /a/../hello HTTP/1.1\r\n\r\n"), 400)
        XCTAssertEqual(try answer("GET /hello%00 HTTP/1.1\r\n\r\n"), 400)
        XCTAssertEqual(try answer("GET /nothing HTTP/1.1\r\n\r\n"), 404)
        XCTAssertEqual(try answer("DELETE /hello HTTP/1.1\r\n\r\n"), 405)
        XCTAssertEqual(try answer("POST /upload HTTP/1.1\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx"), 417)
        XCTAssertEqual(try answer("garbage\r\n\r\n"), 400)
        XCTAssertTrue(waitFor { self.leftovers().isEmpty }, "no temporary files left: \(leftovers())")
    }

    func testCORSPreflightAndHeaders() throws {
        try start()
        let c = try TestClient(path: socketPath)
        try c.send("OPTIONS /upload HTTP/1.1\r\nOrigin: https://maps.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n")
        let preflight = try c.response()
        XCTAssertEqual(preflight?.status, 204)
        XCTAssertEqual(preflight?.headers["access-control-allow-origin"], "*")
        XCTAssertEqual(preflight?.headers["access-control-allow-methods"], "POST, OPTIONS")
        XCTAssertEqual(preflight?.headers["access-control-allow-headers"], "content-type")
        try c.send("GET /hello HTTP/1.1\r\nOrigin: https://maps.example\r\n\r\n")
        XCTAssertEqual(try c.response()?.headers["access-control-allow-origin"], "*")
    }

    func testSlowClientDelaysNobodyAndTimesOutAsAWhole() throws {
        try start()
        let slow = try TestClient(path: socketPath)
        let started = Date()
        let sender = Thread {
            for b in "GET /hello HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaa".utf8 {
                if (try? slow.send([b])) == nil { return }
                usleep(100_000)
            }
        }
        sender.start()
        for _ in 0..<5 {
            let t = Date()
            let c = try TestClient(path: socketPath)
            try c.send("GET /hello HTTP/1.1\r\n\r\n")
            XCTAssertEqual(try c.response()?.status, 200)
            XCTAssertLessThan(Date().timeIntervalSince(t), 0.5)
            usleep(100_000)
        }
        XCTAssertEqual(try slow.response()?.status, 408, "the head deadline holds even though a byte keeps arriving")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }

    func testConnectionCapEvictsTheLongestIdle() throws {
        try start { $0.maxConnections = 8; $0.reservedDescriptors = 0 }
        let idle = try (0..<8).map { _ in try TestClient(path: socketPath) }
        usleep(100_000)
        for _ in 0..<3 {
            let c = try TestClient(path: socketPath)
            try c.send("GET /hello HTTP/1.1\r\n\r\n")
            XCTAssertEqual(try c.response()?.status, 200)
        }
        XCTAssertNil(try idle[0].response(), "the oldest idle connection was closed to make room")
        XCTAssertLessThanOrEqual(server!.stats.snapshot().openConnections, 8)
    }

    private func waitFor(_ condition: () -> Bool) -> Bool {
        for _ in 0..<100 {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
