#if canImport(Glibc)
import Glibc
#endif
import Storage

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
            let stamp = HTTPDate.utc(seconds: Int64(time(nil)), "%Y-%m-%dT%H:%M:%SZ")
            line = "\(stamp) \(l.rawValue): \(message)\n"
        }
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
