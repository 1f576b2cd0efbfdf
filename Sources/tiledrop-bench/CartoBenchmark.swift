import Foundation
import GeoModel
import Storage
import Tiling
#if canImport(Glibc)
import Glibc
#endif

/// `tiledrop-bench carto [--tiles N]`: CARTO layer group tiles against the plain endpoints,
/// through the real daemon over HTTP (one keep-alive connection, requests one at a time).
///
/// A z0–8 tileset is published from 4 MB of synthetic GeoJSON, dropped into the daemon's
/// `drop/bench/` (installed like any MBTiles drop), and two layer groups are
/// instantiated over it: one filtered (`SELECT name, population … WHERE population >= 20000
/// AND cc <> 'C3'`) and one `SELECT *`. For N random stored tiles (500, each requested once, so
/// every cache misses) it times, interleaved: the plain vector tile (`/v4/bench/…mvt`, gzip
/// accepted: the stored bytes), the filtered layer group `.mvt`, the raster tile
/// (`/v4/bench/…png`) and the `SELECT *` layer group `.png`. Prints the medians and the ratios
/// against the targets (≤ 2× and ≤ 1.2×).
enum CartoBenchmark {
    static func run(arguments: [String]) -> Int32 {
        var count = 500
        if arguments.count == 2, arguments[0] == "--tiles", let n = Int(arguments[1]), n > 0 { count = n } else if !arguments.isEmpty {
            FileHandle.standardError.write(Data("usage: tiledrop-bench carto [--tiles N]\n".utf8))
            return 64
        }
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let tiledrop = binDir + "/tiledrop"
        let work = NSTemporaryDirectory() + "tiledrop-bench-carto-\(getpid())"
        try? FileManager.default.createDirectory(atPath: work + "/root", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        print("generating a z0-8 tileset…")
        BenchInputs.writeGeoJSON(path: work + "/in.geojson", megabytes: 4)
        try? #"{"version":1,"layers":{"bench":{"source":"in.geojson","minzoom":0,"maxzoom":8}}}"#.write(toFile: work + "/recipe.json", atomically: true, encoding: .utf8)
        guard ChildProcess.run([tiledrop, "publish", work + "/recipe.json", "-o", work + "/bench.mbtiles"]).exitCode == 0 else {
            print("carto: tiledrop publish failed")
            return 70
        }
        var ids: [TileID] = []
        do { try MBTilesReader(path: work + "/bench.mbtiles").forEachTile { id, _ in ids.append(id) } } catch {
            print("carto: cannot read the tileset: \(error)")
            return 70
        }
        var rng = SystemRandomNumberGenerator()
        ids.shuffle(using: &rng)
        ids = Array(ids.prefix(count))

        let port = Int.random(in: 20_000..<60_000)
        try? "listen = 127.0.0.1:\(port)\nowner = bench\nlog_level = warning\n".write(toFile: work + "/tiledrop.conf", atomically: true, encoding: .utf8)
        let token = Process()
        token.executableURL = URL(fileURLWithPath: tiledrop)
        token.arguments = ["token", "create", "--scopes", "maps:write", "--root", work + "/root", "--config", work + "/tiledrop.conf"]
        let pipe = Pipe()
        token.standardOutput = pipe
        token.standardError = FileHandle.nullDevice
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: tiledrop)
        daemon.arguments = ["run", "--root", work + "/root", "--config", work + "/tiledrop.conf"]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        do {
            try token.run()
            token.waitUntilExit()
            try daemon.run()
        } catch {
            print("carto: cannot start tiledrop: \(error)")
            return 70
        }
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let key = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        var client: BenchHTTPClient?
        for _ in 0..<200 where client == nil {
            client = BenchHTTPClient(port: UInt16(port))
            if client == nil { usleep(50_000) }
        }
        guard let client else { print("carto: tiledrop did not start"); return 70 }
        // Installed like any dropped MBTiles (a tileset without a map or recipe is retired at start-up).
        try? FileManager.default.createDirectory(atPath: work + "/root/drop/bench", withIntermediateDirectories: true)
        try? FileManager.default.copyItem(atPath: work + "/bench.mbtiles", toPath: work + "/root/drop/bench/.bench.mbtiles.part")
        try? FileManager.default.moveItem(atPath: work + "/root/drop/bench/.bench.mbtiles.part", toPath: work + "/root/drop/bench/bench.mbtiles")
        for _ in 0..<1200 where !FileManager.default.fileExists(atPath: work + "/root/tiles/bench.mbtiles") { usleep(50_000) }

        func instantiate(_ sql: String) -> String? {
            let body = #"{"version":"1.3.0","layers":[{"type":"cartodb","options":{"sql":"\#(sql)","cartocss":"* { polygon-fill: #aaccee; line-color: #cc3333; line-width: 2; marker-fill: #3366cc; marker-width: 8; }"}}]}"#
            guard let r = client.request("POST", "/api/v1/map?api_key=" + key, body: body), r.status == 200 else {
                print("carto: instantiating failed: \(client.lastStatus) \(String(decoding: client.lastBody.prefix(300), as: UTF8.self))")
                return nil
            }
            return (try? JSONParser.parse(r.body))?["layergroupid"]?.stringValue
        }
        guard let filtered = instantiate("SELECT name, population FROM bench WHERE population >= 20000 AND cc <> 'C3'"),
              let all = instantiate("SELECT * FROM bench") else {
            print("carto: cannot instantiate the layer groups")
            return 70
        }
        var times: [String: [Double]] = [:]
        var statuses: [String: [Int: Int]] = [:]
        for id in ids {
            let tile = "\(id.z)/\(id.x)/\(id.y)"
            for (label, path, gzip) in [("plain .mvt", "/v4/bench.bench/\(tile).mvt", true), ("layer group .mvt (filtered)", "/api/v1/map/\(filtered)/\(tile).mvt", false),
                                        ("raster .png", "/v4/bench/\(tile).png", false), ("layer group .png", "/api/v1/map/\(all)/\(tile).png", false)] {
                let start = ChildProcess.now()
                guard let r = client.request("GET", path, gzip: gzip) else { print("carto: request failed: \(path)"); return 70 }
                times[label, default: []].append(ChildProcess.now() - start)
                statuses[label, default: [:]][r.status, default: 0] += 1
            }
        }
        func median(_ label: String) -> Double {
            let t = (times[label] ?? []).sorted()
            return t.isEmpty ? 0 : t[t.count / 2] * 1000
        }
        let plain = median("plain .mvt"), mvt = median("layer group .mvt (filtered)"), raster = median("raster .png"), png = median("layer group .png")
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        print("""
        carto (\(ids.count) random z0-8 tiles, each once, one keep-alive connection, medians; shared 2-core machine)
        | request | median ms | statuses |
        |---|---|---|
        \(["plain .mvt", "layer group .mvt (filtered)", "raster .png", "layer group .png"].map { "| \($0) | \(f(median($0))) | \(statuses[$0]?.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ") ?? "") |" }.joined(separator: "\n"))
        filtered .mvt / plain .mvt: \(f(mvt / max(plain, 1e-9)))x (target ≤ 2)
        layer group .png / raster .png: \(f(png / max(raster, 1e-9)))x (target ≤ 1.2)
        """)
        return 0
    }
}

/// A minimal HTTP/1.1 client over one keep-alive TCP connection, for timing requests.
final class BenchHTTPClient {
    private let fd: Int32
    private var buffer: [UInt8] = []
    /// The last answer's status and body, for error messages.
    private(set) var lastStatus = 0
    private(set) var lastBody: [UInt8] = []

    init?(port: UInt16) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 {
            close(fd)
            return nil
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends one request and reads the answer (`Content-Length` framed); nil when the connection fails.
    func request(_ method: String, _ target: String, body: String = "", gzip: Bool = false) -> (status: Int, body: [UInt8])? {
        let head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n" + (gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n"
        let bytes = Array((head + body).utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return nil }
        var headEnd: Int?
        while headEnd == nil {
            headEnd = (0..<max(0, buffer.count - 3)).first { buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10 }
            if headEnd == nil && !fill() { return nil }
        }
        let text = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let length = text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        buffer.removeFirst(headEnd! + 4)
        while buffer.count < length { if !fill() { return nil } }
        let payload = Array(buffer[..<length])
        buffer.removeFirst(length)
        (lastStatus, lastBody) = (status, payload)
        return (status, payload)
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[..<n]
        return true
    }
}
