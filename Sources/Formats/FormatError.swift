#if canImport(Glibc)
import Glibc
#endif

/// Errors of the Formats module: why a whole input file (or one feature) cannot be read.
///
/// Every file-level case names the file; positions are 1-based lines and columns where known.
/// The message says what is wrong and what to do about it. `invalidFeature` is the one case
/// without a file: it describes a single broken feature, and readers turn it into a
/// `FormatWarning` (the feature is skipped, the file goes on).
public enum FormatError: Error, Sendable, CustomStringConvertible {
    /// The file is not well-formed (bad JSON, truncated XML, invalid UTF-8 …).
    case malformed(file: String, line: Int?, column: Int?, message: String)
    /// The file is well-formed but is not something we can convert.
    case unsupported(file: String, message: String)
    /// The file exceeds a safety limit (size, nesting, zip ratio …).
    case limitExceeded(file: String, message: String)
    /// Reading or writing failed at the operating-system level.
    case io(file: String, operation: String, errno: Int32)
    /// One feature or geometry is not valid (bad coordinates, short ring …); not fatal to a file.
    case invalidFeature(message: String)

    public var description: String {
        switch self {
        case let .malformed(file, line?, column?, message): "\(file):\(line):\(column): \(message)"
        case let .malformed(file, line?, nil, message): "\(file):\(line): \(message)"
        case let .malformed(file, _, _, message): "\(file): \(message)"
        case let .unsupported(file, message): "\(file): \(message)"
        case let .limitExceeded(file, message): "\(file): \(message)"
        case let .io(file, operation, errno): "\(file): \(operation) failed: \(String(cString: strerror(errno)))"
        case let .invalidFeature(message): message
        }
    }

    /// The message without the file prefix (for warnings, which carry their own position).
    var reason: String {
        switch self {
        case let .malformed(_, _, _, message), let .unsupported(_, message), let .limitExceeded(_, message),
             let .invalidFeature(message): message
        case let .io(_, operation, errno): "\(operation) failed: \(String(cString: strerror(errno)))"
        }
    }
}
