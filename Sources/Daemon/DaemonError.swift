import Formats
import Storage
import SystemSupport
import Tiling

/// Errors of the Daemon module, each naming what failed and what to do about it.
public enum DaemonError: Error, CustomStringConvertible {
    /// The configuration file has an invalid line.
    case config(file: String, line: Int, message: String)
    /// A system call failed.
    case system(SystemError)
    /// The state database failed.
    case storage(StorageError)
    /// A file could not be converted.
    case format(FormatError)
    /// A recipe or tiling step failed.
    case tiling(TilingError)
    /// Another daemon holds the root's lock.
    case alreadyRunning(root: String, pid: Int32?)
    /// Anything else, with an actionable message.
    case other(String)

    public var description: String {
        switch self {
        case let .config(file, line, message): "\(file):\(line): \(message)"
        case .system(let e): e.description
        case .storage(let e): e.description
        case .format(let e): e.description
        case .tiling(let e): e.description
        case let .alreadyRunning(root, pid):
            "another tiledrop is already running on \(root)\(pid.map { " (pid \($0))" } ?? ""); stop it first or use another --root"
        case .other(let m): m
        }
    }
}
