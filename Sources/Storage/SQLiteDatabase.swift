import CSQLite

/// A SQLite connection (`sqlite3*`) with typed errors.
///
/// Not thread-safe by itself: each owner keeps its connection on one serial queue or actor
/// (DESIGN habit 4). Statements are prepared per call and finalised by `SQLiteStatement`'s
/// deinit, so no statement outlives a failed transaction.
public final class SQLiteDatabase {
    let handle: OpaquePointer
    public let path: String

    /// Opens (and with `create`, creates) the database at `path`; `:memory:` works for tests.
    public init(path: String, readOnly: Bool = false, create: Bool = true) throws(StorageError) {
        var db: OpaquePointer?
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        flags |= SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw StorageError.sqlite(path: path, code: rc, message: "cannot open database: \(message)")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that return no rows.
    public func execute(_ sql: String) throws(StorageError) {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(err)
            throw StorageError.sqlite(path: path, code: rc, message: message)
        }
    }

    /// Prepares one statement; bind with `bind` and read rows with `step`.
    public func prepare(_ sql: String) throws(StorageError) -> SQLiteStatement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        return SQLiteStatement(db: self, handle: stmt)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE … COMMIT` transaction, rolling back if it throws.
    public func transaction<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs a query and returns its first column of the first row as an integer, if any.
    public func scalarInt(_ sql: String, _ values: [SQLiteValue] = []) throws(StorageError) -> Int64? {
        let s = try prepare(sql)
        try s.bind(values)
        guard try s.step() else { return nil }
        return s.isNull(0) ? nil : s.int(0)
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    func error(_ rc: Int32) -> StorageError {
        .sqlite(path: path, code: rc, message: lastErrorMessage)
    }
}

/// A value bound to, or read from, a SQL statement.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

/// A prepared statement (`sqlite3_stmt*`), finalised when released.
public final class SQLiteStatement {
    let db: SQLiteDatabase
    let handle: OpaquePointer

    init(db: SQLiteDatabase, handle: OpaquePointer) {
        self.db = db
        self.handle = handle
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to parameters 1…n, after clearing earlier bindings.
    public func bind(_ values: [SQLiteValue]) throws(StorageError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .int(let n): rc = sqlite3_bind_int64(handle, index, n)
            case .double(let d): rc = sqlite3_bind_double(handle, index, d)
            case .text(let s): rc = sqlite3_bind_text(handle, index, s, -1, SQLiteStatement.transient)
            case .blob(let b):
                rc = b.withUnsafeBytes { buf in
                    sqlite3_bind_blob(handle, index, buf.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buf.count), SQLiteStatement.transient)
                }
            }
            guard rc == SQLITE_OK else { throw db.error(rc) }
        }
    }

    /// Advances to the next row; false when the statement is done.
    @discardableResult
    public func step() throws(StorageError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw db.error(rc)
        }
    }

    /// Binds, runs to completion, and resets: for INSERT/UPDATE/DELETE.
    public func run(_ values: [SQLiteValue] = []) throws(StorageError) {
        try bind(values)
        while try step() {}
        sqlite3_reset(handle)
    }

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    public func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: p)
    }

    public func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: count))
    }

    /// SQLITE_TRANSIENT: SQLite copies bound text and blobs before the call returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
