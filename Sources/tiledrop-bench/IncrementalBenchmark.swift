import Foundation
import GeoModel
import Storage
import Tiling
#if canImport(Glibc)
import Glibc
#endif

/// `tiledrop-bench incremental [--fixtures DIR] [--sizes 10000,50000,144563] [--appends N]`:
/// the real daemon publishes the first N GeoNames cities with the default recipe at z0–10,
/// is restarted (so its peak RSS is the incremental publishes' own), then gets single-city
/// drops and, for the largest size, 100-city drops spread over the world. Each figure is the
/// time from the ingest's completion (`ingests.updated_at`) to the job's success
/// (`jobs.published`), read from `state.db`; the daemon's own line (`appended … in S s`) is
/// printed beside it. Each drop waits until the previous publish's map preview is rendered
/// (`preview_interval = 0`: one after every publish), so no other work of the daemon overlaps
/// the measured publish. Peak RSS is the job's own
/// (`jobs.memory.peak_rss_bytes`: the daemon's peak while the job ran, baseline included).
enum IncrementalBenchmark {
    static func run(arguments: [String]) -> Int32 {
        var fixtures = ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"] ?? "../shared/fixtures"
        var sizes = [10_000, 50_000, 144_563]
        var appends = 5
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--fixtures" where i + 1 < arguments.count: fixtures = arguments[i + 1]; i += 1
            case "--sizes" where i + 1 < arguments.count: sizes = arguments[i + 1].split(separator: ",").compactMap { Int($0) }; i += 1
            case "--appends" where i + 1 < arguments.count: appends = max(1, Int(arguments[i + 1]) ?? 5); i += 1
            default:
                FileHandle.standardError.write(Data("usage: tiledrop-bench incremental [--fixtures DIR] [--sizes 10000,50000,144563] [--appends N]\n".utf8))
                return 64
            }
            i += 1
        }
        let work = NSTemporaryDirectory() + "tiledrop-bench-incremental-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        guard let cities = citiesLines(fixtures: fixtures) else { return 1 }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tiledrop").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            FileHandle.standardError.write(Data("incremental: \(binary) not found; run `swift build -c release` first\n".utf8))
            return 1
        }
        print("incremental publishing: the real daemon, default recipe z0-10, times from ingest completed to job success")
        for size in sizes {
            let root = "\(work)/n\(size)"
            let daemon = Daemon(binary: binary, root: root)
            defer { daemon.stop() }
            do {
                try daemon.prepare()
                try daemon.start()
                let full = try daemon.drop(collection(Array(cities.prefix(size))), name: "base.geojson", jobs: 1)
                daemon.stop()
                try daemon.start()
                var single: [Double] = []
                var random = SeededRandom(state: UInt64(size))
                for k in 0..<appends {
                    single.append(try daemon.drop(collection([point(&random, name: "one \(k)")]), name: "one-\(k).geojson", jobs: 2 + k))
                }
                var hundred: [Double] = []
                if size == sizes.max() {
                    for k in 0..<3 {
                        let spread = (0..<100).map { point(&random, name: "spread \(k)-\($0)") }
                        hundred.append(try daemon.drop(collection(spread), name: "hundred-\(k).geojson", jobs: 2 + appends + k))
                    }
                }
                let rss = daemon.peakRSSKiB()
                let jobRSS = daemon.jobPeakRSS(last: appends + hundred.count)
                let lines = daemon.log.split(separator: "\n").filter { $0.contains("incrementally") || $0.contains("full rebuild") }
                print("  \(size) features: full publish \(format(full)) s; 1-feature append: median \(format(median(single))) s (\(single.map(format).joined(separator: ", ")))"
                      + (hundred.isEmpty ? "" : "; 100 features worldwide: median \(format(median(hundred))) s (\(hundred.map(format).joined(separator: ", ")))")
                      + "; peak RSS of the incremental jobs: max \(jobRSS.max() ?? 0) MB (\(jobRSS.map(String.init).joined(separator: ", ")))"
                      + "; daemon VmHWM since restart \(rss / 1024) MB")
                for line in lines.suffix(appends + hundred.count) { print("    daemon: \(line.split(separator: " ").dropFirst(2).joined(separator: " "))") }
            } catch {
                FileHandle.standardError.write(Data("incremental: \(size): \(error)\n\(daemon.log.suffix(2000))\n".utf8))
                return 1
            }
        }
        print("(the machine was shared with other builds and tests; figures are wall-clock)")
        return 0
    }

    /// The cities fixture's feature lines (one feature per line, without the trailing comma).
    static func citiesLines(fixtures: String) -> [String]? {
        let gz = fixtures + "/real/cities1000.geojson.gz"
        guard let data = FileManager.default.contents(atPath: gz), let raw = try? Gzip.decompress([UInt8](data), limit: 1 << 30) else {
            FileHandle.standardError.write(Data("incremental: cannot read \(gz); pass --fixtures DIR or set TILEDROP_FIXTURES\n".utf8))
            return nil
        }
        var lines: [String] = []
        for var line in String(decoding: raw, as: UTF8.self).split(separator: "\n") where line.hasPrefix("{\"type\":\"Feature\"") {
            while line.last == "," { line.removeLast() }
            lines.append(String(line))
        }
        return lines
    }

    static func collection(_ features: [String]) -> Data {
        Data(("{\"type\":\"FeatureCollection\",\"features\":[\n" + features.joined(separator: ",\n") + "\n]}\n").utf8)
    }

    static func point(_ random: inout SeededRandom, name: String) -> String {
        let lon = Double.random(in: -179...179, using: &random), lat = Double.random(in: -60...70, using: &random)
        return #"{"type":"Feature","properties":{"name":"\#(name)","population":\#(Int.random(in: 1000...90000, using: &random))},"geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]}}"#
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }

    static func format(_ x: Double) -> String { String(format: "%.3f", x) }

    /// SplitMix64, so every run appends the same places.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// `tiledrop run` on a scratch root with the default recipe fixed at z0–10.
    final class Daemon {
        let binary: String
        let root: String
        private var process: Process?

        init(binary: String, root: String) {
            self.binary = binary
            self.root = root
        }

        func prepare() throws {
            try FileManager.default.createDirectory(atPath: root + "/drop/cities", withIntermediateDirectories: true)
            try "settle_seconds = 0.1\nscan_interval_seconds = 2\nlog_level = info\ndefault_maxzoom = 10\npreview_interval = 0\n".write(toFile: root + "/tiledrop.conf", atomically: true, encoding: .utf8)
        }

        func start() throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["run", "--root", root, "--config", root + "/tiledrop.conf"]
            FileManager.default.createFile(atPath: root + "/daemon.log", contents: nil)
            let log = FileHandle(forUpdatingAtPath: root + "/daemon.log")!
            log.seekToEndOfFile()
            p.standardOutput = log
            p.standardError = log
            try p.run()
            process = p
            guard wait(seconds: 60, { FileManager.default.fileExists(atPath: self.root + "/tiledrop.sock") }) else { throw Failure("the daemon did not start") }
        }

        func stop() {
            guard let p = process, p.isRunning else { return }
            p.terminate()
            p.waitUntilExit()
            try? FileManager.default.removeItem(atPath: root + "/tiledrop.sock")
        }

        var log: String { (try? String(contentsOfFile: root + "/daemon.log", encoding: .utf8)) ?? "" }

        /// Drops `data` into the map and waits until `jobs` jobs succeeded; returns the seconds
        /// from the ingest's completion to the last job's success.
        func drop(_ data: Data, name: String, jobs: Int) throws -> Double {
            let temp = root + "/drop/cities/." + name + ".part"
            try data.write(to: URL(fileURLWithPath: temp))
            guard rename(temp, root + "/drop/cities/" + name) == 0 else { throw Failure("cannot rename \(temp)") }
            let previews = log.components(separatedBy: "preview ").count
            var result: Double?
            guard wait(seconds: 900, {
                guard let db = try? SQLiteDatabase(path: self.root + "/state.db", readOnly: true, create: false),
                      let done = try? db.scalarInt("SELECT count(*) FROM jobs WHERE stage = 'success'"), done >= jobs,
                      let published = try? db.scalarInt("SELECT max(published) FROM jobs WHERE stage = 'success'"),
                      let completed = try? db.scalarInt("SELECT updated_at FROM ingests WHERE filename = ? AND state = 'completed'", [.text(name)])
                else { return false }
                result = Double(published - completed) / 1000
                return true
            }), let result else { throw Failure("\(name) was not published within 15 minutes") }
            _ = wait(seconds: 120) { self.log.components(separatedBy: "preview ").count > previews }
            if (try? SQLiteDatabase(path: root + "/state.db", readOnly: true, create: false).scalarInt("SELECT count(*) FROM jobs WHERE stage = 'failed'")) ?? 0 > 0 {
                throw Failure("a publish job failed")
            }
            return result
        }

        /// `peak_rss_bytes` of the last `count` successful jobs, in MB, oldest first.
        func jobPeakRSS(last count: Int) -> [Int] {
            guard let db = try? SQLiteDatabase(path: root + "/state.db", readOnly: true, create: false),
                  let s = try? db.prepare("SELECT memory FROM jobs WHERE stage = 'success' ORDER BY published DESC LIMIT \(count)") else { return [] }
            var out: [Int] = []
            while (try? s.step()) == true {
                if let text = s.text(0), let rss = (try? JSONParser.parse(text))?["peak_rss_bytes"]?.intValue { out.append(rss / 1_000_000) }
            }
            return out.reversed()
        }

        /// VmHWM (peak resident set) of the running daemon, in KiB.
        func peakRSSKiB() -> Int {
            guard let pid = process?.processIdentifier, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }

        private func wait(seconds: Double, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition() { return true }
                usleep(5_000)
            }
            return false
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
