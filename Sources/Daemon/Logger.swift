#if canImport(Glibc)
import Glibc
#endif

/// Log severity, ordered; the configured level drops anything below it.
public enum LogLevel: String, Sendable, Comparable, CaseIterable {
    case debug, info, warning, error

    var rank: Int { LogLevel.allCases.firstIndex(of: self)! }
    /// The sd-daemon(3) priority prefix journald understands on stderr.
    var syslogPrefix: String {
        switch self {
        case .debug: "<7>"
        case .info: "<6>"
        case .warning: "<4>"
        case .error: "<3>"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// Writes one line per message to stderr, where systemd's journal collects it.
///
/// Under systemd (`JOURNAL_STREAM` set) lines carry sd-daemon priority prefixes instead of
/// timestamps, since the journal adds its own. Each line is one `write(2)`, so lines from
/// different threads never interleave.
public struct Logger: Sendable {
    public var level: LogLevel
    let journal: Bool

    public init(level: LogLevel = .info, environment: [String: String] = [:]) {
        self.level = level
        journal = environment["JOURNAL_STREAM"] != nil
    }

    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }

    func log(_ l: LogLevel, _ message: String) {
        guard l >= level else { return }
        let line: String
        if journal {
            line = l.syslogPrefix + message + "\n"
        } else {
            var t = time(nil)
            var tmv = tm()
            gmtime_r(&t, &tmv)
            let stamp = String(format4: Int(tmv.tm_year) + 1900) + "-" + String(two: Int(tmv.tm_mon) + 1) + "-" + String(two: Int(tmv.tm_mday))
                + "T" + String(two: Int(tmv.tm_hour)) + ":" + String(two: Int(tmv.tm_min)) + ":" + String(two: Int(tmv.tm_sec)) + "Z"
            line = "\(stamp) \(l.rawValue): \(message)\n"
        }
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}

extension String {
    init(two v: Int) { self = v < 10 ? "0\(v)" : "\(v)" }
    init(format4 v: Int) {
        let digits = Swift.String(v)
        self = Swift.String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
    }
}
