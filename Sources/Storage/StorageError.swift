/// Errors of the Storage module: SQLite failures and invalid MBTiles or state files.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    /// A SQLite call failed; `code` is the (extended) result code.
    case sqlite(path: String, code: Int32, message: String)
    /// A file is not what it claims to be (e.g. not a valid MBTiles 1.3 file).
    case invalid(path: String, reason: String)
    /// A filesystem operation around a database failed.
    case io(path: String, operation: String, errno: Int32)

    /// True when a statement was stopped by the check given to `SQLiteDatabase.interruptWhen`.
    public var isInterrupt: Bool {
        if case .sqlite(_, let code, _) = self { return code & 0xFF == 9 }  // SQLITE_INTERRUPT
        return false
    }

    public var description: String {
        switch self {
        case .sqlite(let path, let code, let message): "\(path): SQLite error \(code): \(message)"
        case .invalid(let path, let reason): "\(path): \(reason)"
        case .io(let path, let operation, let errno): "\(path): \(operation) failed: \(String(cString: strerror(errno)))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
