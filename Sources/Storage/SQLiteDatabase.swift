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
    /// Without `followSymlinks`, a symbolic link at `path` is refused (`SQLITE_OPEN_NOFOLLOW`).
    public convenience init(path: String, readOnly: Bool = false, create: Bool = true, followSymlinks: Bool = true) throws(StorageError) {
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        if !followSymlinks { flags |= SQLITE_OPEN_NOFOLLOW }
        try self.init(path: path, flags: flags)
    }

    /// Opens a database that came from outside (a dropped container, a file named on the
    /// command line): read-only, never through a symbolic link, and hardened as SQLite's
    /// "Defense Against the Dark Arts" (sqlite.org/security.html) advises — defensive mode,
    /// schema functions and triggers untrusted, tight limits. Pair it with `interruptWhen` so
    /// a query over a hostile schema cannot run past a deadline.
    public convenience init(untrustedPath path: String) throws(StorageError) {
        try self.init(path: path, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW)
        for (option, value) in [(SQLITE_DBCONFIG_DEFENSIVE, 1), (SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0),
                                (SQLITE_DBCONFIG_ENABLE_TRIGGER, 0), (SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0)] {
            let rc = tiledrop_sqlite3_db_config_bool(handle, option, Int32(value))
            guard rc == SQLITE_OK else { throw error(rc) }
        }
        for (limit, value) in [(SQLITE_LIMIT_ATTACHED, 0), (SQLITE_LIMIT_EXPR_DEPTH, 100), (SQLITE_LIMIT_COMPOUND_SELECT, 8),
                               (SQLITE_LIMIT_SQL_LENGTH, 100_000), (SQLITE_LIMIT_COLUMN, 200)] {
            sqlite3_limit(handle, limit, Int32(value))
        }
        try execute("PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON; PRAGMA mmap_size = 0")
    }

    private init(path: String, flags: Int32) throws(StorageError) {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
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

    /// The check `interruptWhen` installed; kept alive here because SQLite holds only a raw pointer.
    private final class InterruptCheck {
        let shouldStop: () -> Bool
        init(_ shouldStop: @escaping () -> Bool) { self.shouldStop = shouldStop }
    }

    private var interruptCheck: InterruptCheck?

    /// Makes every running statement call `shouldStop` every `instructions` virtual-machine
    /// steps (`sqlite3_progress_handler`); when it returns true the statement fails with
    /// SQLITE_INTERRUPT (`StorageError.isInterrupt`). This bounds queries whose cost the
    /// file decides (a recursive view, a huge table) by the caller's deadline and stop flag.
    public func interruptWhen(every instructions: Int32 = 10_000, _ shouldStop: @escaping () -> Bool) {
        let check = InterruptCheck(shouldStop)
        interruptCheck = check
        sqlite3_progress_handler(handle, instructions, { context in
            guard let context else { return 0 }
            return Unmanaged<InterruptCheck>.fromOpaque(context).takeUnretainedValue().shouldStop() ? 1 : 0
        }, Unmanaged.passUnretained(check).toOpaque())
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
