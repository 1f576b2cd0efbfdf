#if canImport(Glibc)
import Glibc
#endif
import Formats
import Storage
import SystemSupport

/// Recognises "the disk is full" among the errors of every module (ENOSPC, EDQUOT, SQLITE_FULL).
enum DiskSpace {
    static func isExhaustion(_ error: any Error) -> Bool {
        switch error {
        case let e as SystemError: return isFull(e.errno)
        case let e as FormatError:
            if case .io(_, _, let code) = e { return isFull(code) }
            return false
        case let e as StorageError:
            switch e {
            case .sqlite(_, let code, _): return code & 0xFF == 13 /* SQLITE_FULL */
            case .io(_, _, let code): return isFull(code)
            case .invalid: return false
            }
        case let e as DaemonError:
            switch e {
            case .system(let s): return isExhaustion(s)
            case .storage(let s): return isExhaustion(s)
            case .format(let f): return isExhaustion(f)
            default: return false
            }
        default: return false
        }
    }

    private static func isFull(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }
}
