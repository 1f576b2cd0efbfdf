#if canImport(Glibc)
import Glibc
#endif
import Formats
import Storage
import SystemSupport

/// Recognises errors that are not the dropped file's fault among the errors of every module:
/// a full disk (ENOSPC, EDQUOT, SQLITE_FULL) and temporary resource or device trouble (EMFILE,
/// ENFILE, EIO). Such a file is put back and retried later instead of being failed.
enum DiskSpace {
    static func isExhaustion(_ error: any Error) -> Bool {
        if let e = storageCode(error) { return e & 0xFF == 13 /* SQLITE_FULL */ }
        return errorNumber(error).map { $0 == ENOSPC || $0 == EDQUOT } ?? false
    }

    /// Too many open files (per process or system-wide) or an I/O error: try again later.
    static func isTemporary(_ error: any Error) -> Bool {
        errorNumber(error).map { $0 == EMFILE || $0 == ENFILE || $0 == EIO } ?? false
    }

    /// The errno behind `error`, from whichever module threw it.
    static func errorNumber(_ error: any Error) -> Int32? {
        switch error {
        case let e as SystemError: return e.errno
        case let e as FormatError:
            if case .io(_, _, let code) = e { return code }
            return nil
        case let e as StorageError:
            if case .io(_, _, let code) = e { return code }
            return nil
        case let e as DaemonError:
            switch e {
            case .system(let s): return errorNumber(s)
            case .storage(let s): return errorNumber(s)
            case .format(let f): return errorNumber(f)
            default: return nil
            }
        default: return nil
        }
    }

    /// The SQLite result code behind `error`, if SQLite reported it.
    private static func storageCode(_ error: any Error) -> Int32? {
        switch error {
        case let e as StorageError:
            if case .sqlite(_, let code, _) = e { return code }
            return nil
        case let e as DaemonError:
            if case .storage(let s) = e { return storageCode(s) }
            return nil
        default: return nil
        }
    }
}
