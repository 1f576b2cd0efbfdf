import Foundation
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
///
/// Copies share one level (held by reference), so a SIGHUP that changes `log_level` reaches
/// every component that was handed the logger at start-up, at once.
public struct Logger: Sendable {
    /// The level all copies of one logger share.
    private final class SharedLevel: @unchecked Sendable {
        private var value: LogLevel
        private let lock = NSLock()
        init(_ value: LogLevel) { self.value = value }
        var current: LogLevel {
            get { lock.lock(); defer { lock.unlock() }; return value }
            set { lock.lock(); value = newValue; lock.unlock() }
        }
    }

    private let shared: SharedLevel
    let journal: Bool

    /// The least severe level written; setting it changes every copy of this logger.
    public var level: LogLevel {
        get { shared.current }
        nonmutating set { shared.current = newValue }
    }

    public init(level: LogLevel = .info, environment: [String: String] = [:]) {
        shared = SharedLevel(level)
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
