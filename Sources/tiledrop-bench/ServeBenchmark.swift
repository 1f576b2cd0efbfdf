#if canImport(Glibc)
import Glibc
#endif
import GeoModel
import Storage

/// `tiledrop-bench serve`: tiledrop's tile server against nginx serving the same tiles as static
/// files, same machine, same run. A generated z0–12 tileset (`tiledrop publish` of 4 MB of
/// synthetic GeoJSON); `wrk` with 64 keep-alive connections requests random tiles (gzip
/// accepted, so both send the stored bytes). Then again with 1,000 idle connections and one
/// slow client held open against tiledrop, and again while the daemon ingests and publishes
/// another map (a GeoJSON dropped into `drop/` as the run starts). Prints requests/s, p99
/// latency, tiledrop's RSS, and the machine's load average.
enum ServeBenchmark {
    static func run(arguments: [String]) -> Int32 {
        guard let wrk = ChildProcess.which("wrk"), let nginx = ChildProcess.which("nginx") ?? (access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : nil) else {
            print("serve: needs wrk and nginx (apt-get install wrk nginx-light); skipped")
            return 69
        }
        let seconds = arguments.first.flatMap(Int.init) ?? 10
        // `--background nice` measures the publish case with `background_scheduling = nice`
        // (the nice value alone) instead of the default SCHED_IDLE, for comparison.
        let scheduling = arguments.firstIndex(of: "--background").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil } ?? "idle"
        guard scheduling == "idle" || scheduling == "nice" else {
            print("serve: --background must be idle or nice, not '\(scheduling)'")
            return 64
        }
        let binDir = String(CommandLine.arguments[0].prefix(upTo: CommandLine.arguments[0].lastIndex(of: "/") ?? CommandLine.arguments[0].startIndex))
        let tiledrop = (binDir.isEmpty ? "." : binDir) + "/tiledrop"
        let work = "/tmp/tiledrop-bench-serve-\(getpid())"
        defer { _ = ChildProcess.run(["/bin/rm", "-rf", work]) }
        for d in [work, work + "/root", work + "/root/tiles", work + "/static"] { mkdir(d, 0o755) }

        print("generating a z0-12 tileset…")
        BenchInputs.writeGeoJSON(path: work + "/in.geojson", megabytes: 4)
        write(work + "/recipe.json", #"{"version":1,"layers":{"bench":{"source":"in.geojson","minzoom":0,"maxzoom":12}}}"#)
        let published = ChildProcess.run([tiledrop, "publish", work + "/recipe.json", "-o", work + "/root/tiles/bench.mbtiles"])
        guard published.exitCode == 0 else { print("serve: tiledrop publish failed (\(published.exitCode))"); return 70 }
        var paths: [String] = []
        do {
            let reader = try MBTilesReader(path: work + "/root/tiles/bench.mbtiles")
            try reader.forEachTile { id, data in
                mkdir(work + "/static/\(id.z)", 0o755)
                mkdir(work + "/static/\(id.z)/\(id.x)", 0o755)
                write(work + "/static/\(id.z)/\(id.x)/\(id.y).mvt", data)
                paths.append("/\(id.z)/\(id.x)/\(id.y).mvt")
            }
        } catch {
            print("serve: cannot read the tileset: \(error)")
            return 70
        }
        var rng = SystemRandomNumberGenerator()
        paths.shuffle(using: &rng)
        let sample = Array(paths.prefix(20_000))
        print("\(paths.count) tiles; wrk picks among \(sample.count) at random")

        let tdPort = freePort(), ngPort = freePort()
        write(work + "/tiledrop.conf", "listen = 127.0.0.1:\(tdPort)\nowner = bench\nlog_level = warning\nsettle_seconds = 0.2\nbackground_scheduling = \(scheduling)\n")
        // The map published during the last run: 8 MB of points, lines and polygons to z13.
        mkdir(work + "/root/recipes", 0o755)
        write(work + "/root/recipes/other.json", #"{"version":1,"layers":{"other":{"source":"tiledrop://tileset-source/other","minzoom":0,"maxzoom":13}}}"#)
        BenchInputs.writeGeoJSON(path: work + "/other.geojson", megabytes: 8)
        write(work + "/nginx.conf", """
        daemon off; worker_processes auto; pid \(work)/nginx.pid; error_log \(work)/nginx.err;
        events { worker_connections 4096; }
        http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 10000000; keepalive_timeout 75;
          types { application/vnd.mapbox-vector-tile mvt; }
          server { listen 127.0.0.1:\(ngPort); root \(work)/static; add_header Content-Encoding gzip;
                   add_header Cache-Control "max-age=43200,s-maxage=300"; } }
        """)
        let daemon = spawn([tiledrop, "run", "--root", work + "/root", "--config", work + "/tiledrop.conf"])
        let web = spawn([nginx, "-c", work + "/nginx.conf", "-p", work])
        defer {
            kill(daemon, SIGTERM)
            kill(web, SIGQUIT)
            var status: Int32 = 0
            waitpid(daemon, &status, 0)
            waitpid(web, &status, 0)
        }
        guard waitForPort(tdPort), waitForPort(ngPort) else { print("serve: a server did not start"); return 70 }

        func script(_ prefix: String) -> String {
            let path = work + "/wrk-\(prefix.count).lua"
            write(path, "local p = {" + sample.map { "\"\(prefix)\($0)\"" }.joined(separator: ",") + "}\n"
                + "request = function() return wrk.format(\"GET\", p[math.random(#p)], {[\"Accept-Encoding\"] = \"gzip\"}) end\n")
            return path
        }
        let tdScript = script("/v4/bench.bench"), ngScript = script("")
        func load(_ port: UInt16, _ script: String) -> (rps: Double, p99: Double, errors: String) {
            let out = capture([wrk, "-t2", "-c64", "-d\(seconds)s", "--latency", "-s", script, "http://127.0.0.1:\(port)"])
            var rps = 0.0, p99 = 0.0, errors = ""
            for line in out.split(separator: "\n") {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                if f.first == "Requests/sec:", f.count > 1 { rps = Double(f[1]) ?? 0 }
                if f.first == "99%", f.count > 1 { p99 = milliseconds(String(f[1])) }
                if line.contains("Non-2xx") || line.contains("Socket errors") { errors += line.trimmingCharacters() + "; " }
            }
            return (rps, p99, errors)
        }
        _ = load(tdPort, tdScript)  // warm-up: page cache, connections
        let td = load(tdPort, tdScript)
        let ng = load(ngPort, ngScript)
        let rss = residentKiB(daemon)
        // 1,000 idle connections and one client trickling a request, held during the run.
        var idle: [Int32] = []
        for _ in 0..<1000 { if let fd = connectTo(tdPort) { idle.append(fd) } }
        let slow = connectTo(tdPort)
        if let slow { _ = "GET /v4/bench.bench/0/0/0.mvt HTTP/1.1\r\nHo".withCString { send(slow, $0, 38, 0) } }
        let loaded = load(tdPort, tdScript)
        let rssLoaded = residentKiB(daemon)
        for fd in idle { close(fd) }
        if let slow { close(slow) }

        // A publish of another tileset running in the daemon meanwhile.
        mkdir(work + "/root/drop", 0o755)
        mkdir(work + "/root/drop/other", 0o755)
        let publishStart = now()
        rename(work + "/other.geojson", work + "/root/drop/other/other.geojson")
        let publishing = load(tdPort, tdScript)
        let loadEnd = now()
        var publishEnd: Double?
        while publishEnd == nil && now() - publishStart < 600 {
            if access(work + "/root/tiles/other.mbtiles", F_OK) == 0 { publishEnd = now() } else { usleep(100_000) }
        }
        let rssPublishing = residentKiB(daemon)
        let overlap = publishEnd.map { $0 > loadEnd ? "the whole run" : "the first \(fmt($0 - publishStart)) s of the run" } ?? "none (no publish)"

        print("""
        serve (wrk -t2 -c64 -d\(seconds)s, random tiles of \(sample.count), keep-alive, gzip; shared 2-core machine)
        | server | requests/s | p99 latency | RSS |
        |---|---|---|---|
        | tiledrop | \(Int(td.rps)) | \(fmt(td.p99)) ms | \(rss / 1024) MB |
        | nginx (static files) | \(Int(ng.rps)) | \(fmt(ng.p99)) ms | |
        | tiledrop + 1,000 idle connections + a slow client | \(Int(loaded.rps)) | \(fmt(loaded.p99)) ms | \(rssLoaded / 1024) MB |
        | tiledrop while publishing another tileset (background_scheduling = \(scheduling)) | \(Int(publishing.rps)) | \(fmt(publishing.p99)) ms | \(rssPublishing / 1024) MB |
        tiledrop / nginx throughput: \(fmt(td.rps / max(ng.rps, 1)))x; the publish ran during \(overlap) (it took \(publishEnd.map { fmt($0 - publishStart) } ?? "?") s)
        load average at the end: \(loadAverage())
        \(td.errors.isEmpty && ng.errors.isEmpty && loaded.errors.isEmpty && publishing.errors.isEmpty ? "" : "errors: tiledrop \(td.errors) nginx \(ng.errors) loaded \(loaded.errors) publishing \(publishing.errors)")
        """)
        return 0
    }

    static func fmt(_ x: Double) -> String { String(Double(Int(x * 100)) / 100) }

    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// The 1-, 5- and 15-minute load averages (proc(5) `loadavg`): how busy the shared machine was.
    static func loadAverage() -> String {
        guard let f = fopen("/proc/loadavg", "r") else { return "?" }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 128)
        guard fgets(&buffer, Int32(buffer.count), f) != nil else { return "?" }
        return String(cString: buffer).split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// wrk prints latencies as `1.23ms`, `456.00us` or `1.02s`.
    private static func milliseconds(_ text: String) -> Double {
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? 0 }
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? 0) / 1000 }
        if text.hasSuffix("s") { return (Double(text.dropLast()) ?? 0) * 1000 }
        return 0
    }

    static func write(_ path: String, _ text: String) { write(path, Array(text.utf8)) }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func spawn(_ argv: [String]) -> pid_t {
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        return pid
    }

    /// Runs `argv` and returns its standard output.
    static func capture(_ argv: [String]) -> String {
        let path = "/tmp/tiledrop-bench-out-\(getpid())"
        defer { unlink(path) }
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { return "" }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var out = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), f) != nil { out += String(cString: buffer) }
        return out
    }

    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: addr.sin_port)
    }

    static func connectTo(_ port: UInt16) -> Int32? {
        // Close-on-exec: wrk must not inherit these (its event loop refuses descriptors above its set size).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc == 0 { return fd }
        close(fd)
        return nil
    }

    static func waitForPort(_ port: UInt16) -> Bool {
        for _ in 0..<200 {
            if let fd = connectTo(port) { close(fd); return true }
            usleep(50_000)
        }
        return false
    }

    /// VmRSS of `pid` in KiB (proc(5)); `field` "VmHWM:" gives the peak instead.
    static func residentKiB(_ pid: pid_t, field: String = "VmRSS:") -> Int {
        guard let f = fopen("/proc/\(pid)/status", "r") else { return 0 }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), f) != nil {
            let line = String(cString: buffer)
            if line.hasPrefix(field) { return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0 }
        }
        return 0
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String { String(drop(while: { $0 == " " })) }
}
