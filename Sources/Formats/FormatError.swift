/// Errors of the Formats module: why a whole input file cannot be read.
///
/// Every case names the file; positions are 1-based lines and columns where known. The
/// message says what is wrong and what to do about it.
public enum FormatError: Error, Sendable, CustomStringConvertible {
    /// The file is not well-formed (bad JSON, truncated XML, invalid UTF-8 …).
    case malformed(file: String, line: Int?, column: Int?, message: String)
    /// The file is well-formed but is not something we can convert.
    case unsupported(file: String, message: String)
    /// The file exceeds a safety limit (size, nesting, zip ratio …).
    case limitExceeded(file: String, message: String)
    /// Reading or writing failed at the operating-system level.
    case io(file: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .malformed(file, line?, column?, message): "\(file):\(line):\(column): \(message)"
        case let .malformed(file, line?, nil, message): "\(file):\(line): \(message)"
        case let .malformed(file, _, _, message): "\(file): \(message)"
        case let .unsupported(file, message): "\(file): \(message)"
        case let .limitExceeded(file, message): "\(file): \(message)"
        case let .io(file, operation, errno): "\(file): \(operation) failed: \(String(cString: strerror(errno)))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
