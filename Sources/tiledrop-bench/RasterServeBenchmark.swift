#if canImport(Glibc)
import Glibc
#endif
import GeoModel

/// The daemon's memory while it renders raster tiles: `tiledrop run` serves a vector tileset,
/// `wrk` (2 threads, 32 keep-alive connections) requests random `/v4` images of its tiles —
/// `png`, `png256`, `jpg`, `webp`, 1× and `@2x`, so most requests miss the tile cache and are
/// drawn — and the daemon's peak resident set (`VmHWM`, proc(5)) is read at the end.
enum RasterServeBenchmark {
    /// Returns the printed summary lines, or why the run was skipped.
    static func run(mbtiles: String, tiles: [TileID], seconds: Int) -> [String] {
        guard let wrk = ChildProcess.which("wrk") else { return ["daemon under raster load: needs wrk (apt-get install wrk); skipped"] }
        let binDir = String(CommandLine.arguments[0].prefix(upTo: CommandLine.arguments[0].lastIndex(of: "/") ?? CommandLine.arguments[0].startIndex))
        let tiledrop = (binDir.isEmpty ? "." : binDir) + "/tiledrop"
        let work = "/tmp/tiledrop-bench-raster-\(getpid())"
        defer { _ = ChildProcess.run(["/bin/rm", "-rf", work]) }
        for d in [work, work + "/root", work + "/root/drop", work + "/root/drop/ne"] { mkdir(d, 0o755) }
        let port = ServeBenchmark.freePort()
        ServeBenchmark.write(work + "/tiledrop.conf", "listen = 127.0.0.1:\(port)\nowner = bench\nlog_level = warning\n")
        let formats = ["png", "png256", "jpg", "webp", "png", "png"]
        var rng = SystemRandomNumberGenerator()
        let paths = tiles.map { t in "/v4/ne/\(t.z)/\(t.x)/\(t.y)\(Bool.random(using: &rng) ? "@2x" : "").\(formats.randomElement(using: &rng)!)" }
        ServeBenchmark.write(work + "/wrk.lua", "local p = {" + paths.map { "\"\($0)\"" }.joined(separator: ",") + "}\n"
            + "request = function() return wrk.format(\"GET\", p[math.random(#p)]) end\n")

        let daemon = ServeBenchmark.spawn([tiledrop, "run", "--root", work + "/root", "--config", work + "/tiledrop.conf"])
        defer {
            kill(daemon, SIGTERM)
            var status: Int32 = 0
            waitpid(daemon, &status, 0)
        }
        guard ServeBenchmark.waitForPort(port) else { return ["daemon under raster load: the daemon did not start"] }
        // Installed as a dropped container (a file put straight into tiles/ would be retired
        // at start-up as a tileset nothing publishes).
        guard ChildProcess.run(["/bin/cp", mbtiles, work + "/ne.mbtiles"]).exitCode == 0,
              rename(work + "/ne.mbtiles", work + "/root/drop/ne/ne.mbtiles") == 0 else { return ["daemon under raster load: cannot drop \(mbtiles)"] }
        let deadline = ServeBenchmark.now() + 300
        while firstLine(port: port, path: paths[0]) != "HTTP/1.1 200 OK" {
            guard ServeBenchmark.now() < deadline else { return ["daemon under raster load: the tileset was not installed within 300 s"] }
            usleep(200_000)
        }
        let idle = ServeBenchmark.residentKiB(daemon)
        let out = ServeBenchmark.capture([wrk, "-t2", "-c32", "-d\(seconds)s", "-s", work + "/wrk.lua", "http://127.0.0.1:\(port)"])
        let peak = ServeBenchmark.residentKiB(daemon, field: "VmHWM:"), after = ServeBenchmark.residentKiB(daemon)
        var rps = "?", errors = ""
        for line in out.split(separator: "\n") {
            if line.hasPrefix("Requests/sec:") { rps = String(line.split(separator: " ").last ?? "?") }
            if line.contains("Non-2xx") || line.contains("Socket errors") { errors += " " + line.split(separator: " ").joined(separator: " ") }
        }
        return [
            "daemon under raster load (wrk -t2 -c32 -d\(seconds)s over \(paths.count) random png/png256/jpg/webp tiles, half @2x): \(rps) requests/s",
            "daemon RSS: idle \(idle / 1024) MB, peak (VmHWM) \(peak / 1024) MB, after \(after / 1024) MB" + (errors.isEmpty ? "" : "; errors:" + errors),
        ]
    }

    /// The status line of `GET path` (nil when the daemon does not answer).
    static func firstLine(port: UInt16, path: String) -> String? {
        guard let fd = ServeBenchmark.connectTo(port) else { return nil }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\r\n").first.map(String.init)
    }
}
