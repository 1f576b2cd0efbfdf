import Foundation
import GeoModel
import SystemSupport
import XCTest

/// Runs the real `tiledrop` binary on a temporary root, the way an operator would.
///
/// Each harness owns a fresh root folder and a config file with short settle and scan
/// periods so tests run quickly; `stop()` sends SIGTERM and returns the exit status.
final class DaemonHarness {
    let root: String
    let configPath: String
    private(set) var process: Process?
    /// How `--root` is spelled on the command line (default: `root`), and the directory the
    /// daemon starts in, so tests can name the same root as `./R`, `R`, `R/` or absolute.
    var rootArgument: String?
    var workingDirectory: String?
    private let logPath: String

    static var binary: String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tiledrop").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tiledrop").path,
            repositoryRoot + "/.build/debug/tiledrop",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// `TILEDROP_FIXTURES`, else `<repo>/../shared/fixtures`.
    static var fixtures: String {
        ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"] ?? URL(fileURLWithPath: repositoryRoot + "/../shared/fixtures").standardized.path
    }

    init(root: String? = nil, settleSeconds: Double = 0.3, extraConfig: String = "") throws {
        self.root = root ?? NSTemporaryDirectory() + "tiledrop-it-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
        configPath = self.root + "/tiledrop.conf"
        logPath = self.root + "/daemon.log"
        // background_nice = 0 and background_scheduling = nice: the suite shares its machine
        // with builds at nice 0, among which the defaults (SCHED_IDLE, nice 10) would leave the
        // daemon's ingests and publishes waiting for minutes.
        try """
        settle_seconds = \(settleSeconds)
        scan_interval_seconds = 2
        log_level = debug
        default_maxzoom = 5
        background_nice = 0
        background_scheduling = nice
        \(extraConfig)
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts `tiledrop run` and waits until its socket answers. With `descriptorLimit`, the
    /// daemon runs under `sh -c 'ulimit -n N; exec tiledrop …'`.
    func start(descriptorLimit: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = Process()
        let arguments = ["run", "--root", rootArgument ?? root, "--config", configPath]
        if let descriptorLimit {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", DaemonHarness.binary] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: DaemonHarness.binary)
            p.arguments = arguments
        }
        if let workingDirectory { p.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        process = p
        let ready = waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: self.root + "/tiledrop.sock") && (try? self.status()) != nil }
        XCTAssertTrue(ready, "daemon did not start; log:\n\(self.log)", file: file, line: line)
    }

    /// SIGTERM, then the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let p = process, p.isRunning else { return process?.terminationStatus ?? 0 }
        kill(p.processIdentifier, SIGTERM)
        _ = waitUntil(timeout: 30) { !p.isRunning }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        return p.terminationStatus
    }

    /// SIGKILL: no chance to clean up.
    func crash() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Writes `data` as `drop/<map>/<name>` the way careful tools do: a hidden temp name, then rename.
    func drop(_ data: Data, map: String, name: String, group: String? = nil) throws {
        let folder = root + "/drop/" + map + (group.map { "/" + $0 } ?? "")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temp = folder + "/." + name + ".uploading"
        try data.write(to: URL(fileURLWithPath: temp))
        XCTAssertEqual(rename(temp, folder + "/" + name), 0)
    }

    /// Runs the CLI with `args`; returns exit status, stdout and stderr.
    func cli(_ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try DaemonHarness.run(args)
    }

    static func run(_ args: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, outData, String(decoding: errData, as: UTF8.self))
    }

    /// Runs a system tool (mount, systemd-analyze) and returns its exit status and output.
    @discardableResult
    static func runTool(_ path: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// `tiledrop status --json --root ROOT`, parsed.
    func status() throws -> JSONValue {
        let r = try cli(["status", "--json", "--root", root])
        guard r.status == 0 else { throw NSError(domain: "status", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
        return try JSONParser.parse(Array(r.stdout))
    }

    /// One HTTP request over the daemon's socket (as the local admin), read to the close:
    /// the status, the head's text and the body's bytes ((0, "", []) when no head came back).
    func http(_ method: String, _ path: String) throws -> (status: Int, headers: String, body: [UInt8]) {
        let socket = try UnixSocket.connect(path: root + "/tiledrop.sock")
        try socket.sendAll(Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        var bytes: [UInt8] = []
        while true {
            let chunk = try socket.receive()
            if chunk.isEmpty { break }
            bytes += chunk
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else { return (0, "", []) }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        return (Int(head.split(separator: " ")[1]) ?? 0, head, Array(bytes[(end + 4)...]))
    }

    func cleanUp() {
        stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
@discardableResult
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
