import XCTest
@testable import Storage

final class SQLiteDatabaseTests: XCTestCase {
    func testRoundTripsValuesAndRollsBack() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB)")
        try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)").run([.int(7), .double(1.5), .text("é"), .blob([1, 2, 3])])
        XCTAssertThrowsError(try db.transaction { () throws(StorageError) in
            try db.prepare("INSERT INTO t VALUES (8, 0, '', x'')").run()
            throw StorageError.invalid(path: "x", reason: "abort")
        })
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM t"), 1)
        let s = try db.prepare("SELECT i, d, s, b FROM t")
        XCTAssertTrue(try s.step())
        XCTAssertEqual(s.int(0), 7)
        XCTAssertEqual(s.double(1), 1.5)
        XCTAssertEqual(s.text(2), "é")
        XCTAssertEqual(s.blob(3), [1, 2, 3])
    }

    func testErrorsNameTheDatabase() {
        XCTAssertThrowsError(try SQLiteDatabase(path: ":memory:").execute("SELECT * FROM missing")) { e in
            XCTAssertTrue("\(e)".contains("missing"))
        }
    }
}
