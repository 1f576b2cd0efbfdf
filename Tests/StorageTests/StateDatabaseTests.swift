import XCTest
@testable import Storage

final class StateDatabaseTests: XCTestCase {
    private func record(_ id: String, map: String = "m", state: IngestState = .upload) -> IngestRecord {
        IngestRecord(id: id, map: map, group: nil, filename: "\(id).geojson", size: 10, state: state,
                     originalPath: "/drop/m/\(id).geojson", workPath: "/drop/m/.tiledrop/\(id)", createdAt: 1, updatedAt: 1)
    }

    func testIngestLifecycleAndCounts() throws {
        let db = try StateDatabase(path: ":memory:")
        try db.insertIngest(record("a"))
        try db.insertIngest(record("b"))
        var a = try XCTUnwrap(db.ingest(id: "a"))
        a.state = .completed
        a.sourceFile = "/sources/m/a.geojsonl"
        a.sha256 = "abc"
        a.featureCount = 3
        a.warnings = ["feature 2: skipped"]
        try db.updateIngest(a)
        XCTAssertEqual(try db.ingest(id: "a"), a)
        XCTAssertEqual(try db.unfinishedIngests().map(\.id), ["b"])
        XCTAssertEqual(try db.sourceFiles(map: "m"), ["/sources/m/a.geojsonl"])
        XCTAssertEqual(try db.completedIngest(map: "m", sha256: "abc")?.id, "a")
        XCTAssertNil(try db.completedIngest(map: "other", sha256: "abc"))
        let counts = try db.ingestCounts()
        XCTAssertEqual(counts[.completed], 1)
        XCTAssertEqual(counts[.upload], 1)
        XCTAssertEqual(counts[.failed], 0)
    }

    func testCompactionKeepsDuplicateDetectionAndReplaceDetaches() throws {
        let db = try StateDatabase(path: ":memory:")
        for (i, id) in ["a", "b", "c"].enumerated() {
            var r = record(id, state: .completed)
            r.sourceFile = "/s/\(id).geojsonl"
            r.sha256 = "h\(i)"
            try db.insertIngest(r)
        }
        try db.reassignSources(map: "m", from: [("/s/a.geojsonl", 10), ("/s/b.geojsonl", 25)], to: "/s/merged.geojsonl")
        XCTAssertEqual(try db.sourceFiles(map: "m"), ["/s/merged.geojsonl", "/s/c.geojsonl"], "distinct files in append order")
        let parts = try XCTUnwrap(db.compactionParts(merged: "/s/merged.geojsonl"))
        XCTAssertEqual(parts.map(\.path), ["/s/a.geojsonl", "/s/b.geojsonl"], "the compaction's lineage, in order")
        XCTAssertEqual(parts.map(\.size), [10, 25])
        XCTAssertNil(try db.compactionParts(merged: "/s/c.geojsonl"))
        XCTAssertEqual(try db.completedIngest(map: "m", sha256: "h1")?.id, "b", "merged content is still recognised")
        XCTAssertEqual(try db.detachSources(map: "m", keeping: "c").sorted(), ["/s/merged.geojsonl"])
        XCTAssertEqual(try db.sourceFiles(map: "m"), ["/s/c.geojsonl"])
        XCTAssertNil(try db.compactionParts(merged: "/s/merged.geojsonl"), "a replace forgets the lineage")
        XCTAssertNil(try db.completedIngest(map: "m", sha256: "h0"), "replaced content may be dropped again")
    }

    func testDeletingASourceForgetsItsCompactionLineage() throws {
        let db = try StateDatabase(path: ":memory:")
        for id in ["a", "b"] {
            var r = record(id, state: .completed)
            r.sourceFile = "/s/\(id).geojsonl"
            try db.insertIngest(r)
        }
        try db.reassignSources(map: "m", from: [("/s/a.geojsonl", 1), ("/s/b.geojsonl", 2)], to: "/s/merged.geojsonl")
        XCTAssertNotNil(try db.compactionParts(merged: "/s/merged.geojsonl"))
        XCTAssertEqual(try db.detachAllSources(map: "m"), ["/s/merged.geojsonl"])
        XCTAssertNil(try db.compactionParts(merged: "/s/merged.geojsonl"))
        try db.reassignSources(map: "m", from: [("/s/x.geojsonl", 1)], to: "/s/other.geojsonl", lineage: false)
        XCTAssertNil(try db.compactionParts(merged: "/s/other.geojsonl"), "a compaction that rewrote lines keeps no lineage")
    }

    func testJobsCollapseAndOneActivePerTileset() throws {
        let db = try StateDatabase(path: ":memory:")
        let first = try db.enqueueJob(tileset: "t", id: "j1", now: 1)
        XCTAssertEqual(try db.enqueueJob(tileset: "t", id: "j2", now: 2), first, "pending requests collapse")
        var job = try XCTUnwrap(db.nextQueuedJob())
        job.stage = .processing
        try db.updateJob(job)
        XCTAssertEqual(try db.enqueueJob(tileset: "t", id: "j3", now: 3), "j3", "a new request queues behind the active job")
        XCTAssertNil(try db.nextQueuedJob(), "one active job per tileset")
        try db.requeueInterruptedJobs()
        XCTAssertEqual(try db.nextQueuedJob()?.id, "j1")
        XCTAssertEqual(try db.jobCounts()[.queued], 2)
    }

    func testMigrationIsIdempotentOnDisk() throws {
        let path = NSTemporaryDirectory() + "/state-\(UUID().uuidString).db"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try StateDatabase(path: path).insertIngest(record("x"))
        XCTAssertEqual(try StateDatabase(path: path).ingest(id: "x")?.filename, "x.geojson")
    }

    func testCreatedNiceMatchesMTS() {
        XCTAssertEqual(HTTPDate.format(milliseconds: 1560981902377), "Wed Jun 19 2019 22:05:02 GMT+0000 (UTC)")
    }
}

/// Issue 8: paths relative to the root, and the migration of version-1 absolute rows.
final class StateDatabaseRootTests: XCTestCase {
    func testPathsAreStoredRelativeToTheRootAndResolvedAgainstIt() throws {
        let path = NSTemporaryDirectory() + "state-root-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).db"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        var r = IngestRecord(id: "a", map: "m", group: nil, filename: "a.json", size: 1, originalPath: "/old/root/drop/m/a.json",
                             workPath: "/old/root/drop/m/.tiledrop/a--a.json", createdAt: 1, updatedAt: 1)
        r.state = .completed
        r.sourceFile = "/old/root/sources/m/a.geojsonl"
        try StateDatabase(path: path, root: "/old/root/").insertIngest(r)
        let raw = try SQLiteDatabase(path: path, readOnly: true).prepare("SELECT original_path, work_path, source_file FROM ingests")
        XCTAssertTrue(try raw.step())
        XCTAssertEqual([raw.text(0), raw.text(1), raw.text(2)], ["drop/m/a.json", "drop/m/.tiledrop/a--a.json", "sources/m/a.geojsonl"])
        let moved = try StateDatabase(path: path, root: "/new/place")
        XCTAssertEqual(try moved.sourceFiles(map: "m"), ["/new/place/sources/m/a.geojsonl"])
        XCTAssertEqual(try moved.ingest(id: "a")?.workPath, "/new/place/drop/m/.tiledrop/a--a.json")
    }

    func testVersion1AbsoluteRowsAreMigratedToRelativeOnes() throws {
        let path = NSTemporaryDirectory() + "state-v1-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).db"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        do {
            let v1 = try SQLiteDatabase(path: path)
            try v1.execute(StateMigrations.version1 + "; PRAGMA user_version = 1;")
            for (id, prefix) in [("a", "./tiledrop-data"), ("b", "/srv/tiledrop-data/"), ("c", "tiledrop-data")] {
                try v1.execute("""
                    INSERT INTO ingests (id, map, filename, size, state, original_path, work_path, source_file, created_at, updated_at)
                    VALUES ('\(id)', 'm', 'x', 1, 'completed', '\(prefix)/drop/m/g/x', '\(prefix)/drop/m/.tiledrop/\(id)--x',
                            '\(prefix)/sources/m/\(id).geojsonl', 1, 1)
                    """)
            }
        }
        let db = try StateDatabase(path: path, root: "/srv/new")
        XCTAssertEqual(try db.sourceFiles(map: "m"), ["a", "b", "c"].map { "/srv/new/sources/m/\($0).geojsonl" })
        XCTAssertEqual(try db.ingest(id: "b")?.originalPath, "/srv/new/drop/m/g/x")
        XCTAssertEqual(try db.ingest(id: "c")?.attempts, 0)
    }
}
