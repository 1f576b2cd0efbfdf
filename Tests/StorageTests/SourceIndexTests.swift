import Foundation
import GeoModel
import XCTest
@testable import Storage

/// The spatial index of a map's source against brute force: random boxes, random queries.
final class SourceIndexTests: XCTestCase {
    private var path = ""

    override func setUp() {
        path = NSTemporaryDirectory() + "tiledrop-index-" + UUID().uuidString.prefix(8) + ".sqlite"
    }

    override func tearDown() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Deterministic pseudo-random numbers (SplitMix64), so a failure can be replayed.
    private struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func double(_ range: ClosedRange<Double>) -> Double {
            range.lowerBound + Double(next() % 1_000_001) / 1_000_000 * (range.upperBound - range.lowerBound)
        }
    }

    /// Any order-keeping projection works for the index; the tests use plate carrée.
    private static func unit(_ b: BoundingBox) -> (x0: Double, y0: Double, x1: Double, y1: Double) {
        ((b.west + 180) / 360, (90 - b.north) / 180, (b.east + 180) / 360, (90 - b.south) / 180)
    }

    private static func cell(_ b: BoundingBox) -> SourceCell {
        let u = unit(b)
        return SourceCell(x0: u.x0, y0: u.y0, x1: u.x1, y1: u.y1)
    }

    private static func probes(_ b: BoundingBox) -> [SourceCell.Probe] {
        let u = unit(b)
        return SourceCell.probes(x0: u.x0, y0: u.y0, x1: u.x1, y1: u.y1)
    }

    private func randomEntries(_ count: Int, random: inout Random) -> [SourceIndex.Entry] {
        var offset: Int64 = 0
        return (0..<count).map { i in
            let west = random.double(-180...179), south = random.double(-85...84)
            // Mostly points and small boxes, some large ones, some without geometry.
            let size = i % 10 == 0 ? random.double(0...60) : (i % 3 == 0 ? 0 : random.double(0...2))
            let bbox = i % 17 == 0 ? nil : BoundingBox(west: west, south: south, east: min(180, west + size), north: min(85, south + size / 2))
            let length = Int(random.next() % 300) + 40
            defer { offset += Int64(length) + 1 }
            return SourceIndex.Entry(offset: offset, length: length, sourceID: Int64(i + 1), key: i % 5 == 0 ? nil : "\(i % 50)",
                                     bbox: bbox, cell: bbox.map(Self.cell))
        }
    }

    func testBoxQueriesEqualBruteForceInSourceOrder() throws {
        var random = Random(state: 13)
        let index = try SourceIndex(path: path)
        let files = ["a.geojsonl": randomEntries(3000, random: &random), "b.geojsonl": randomEntries(1500, random: &random)]
        for (name, entries) in files {
            try index.addFile(name, size: 1) { add in for e in entries { try add(e) } }
        }
        var nonEmpty = 0
        for q in 0..<300 {
            let west = random.double(-200...180), south = random.double(-90...85)
            let size = q % 4 == 0 ? random.double(0...0.001) : random.double(0...40)
            // Some queries share an edge with an entry exactly: touching counts.
            var box = BoundingBox(west: west, south: south, east: west + size, north: south + size)
            if q % 7 == 0, let b = files["a.geojsonl"]![q].bbox { box = BoundingBox(west: b.east, south: b.north, east: b.east + 1, north: b.north + 1) }
            for (name, entries) in files {
                let expected = entries.filter { $0.bbox.map { $0.intersects(box) } ?? false }
                var found: [SourceIndex.Entry] = []
                try index.entries(in: name, probes: Self.probes(box), touching: box) { found.append($0); return true }
                XCTAssertEqual(found, expected, "query \(q) \(box) in \(name)")
                if !expected.isEmpty { nonEmpty += 1 }
            }
        }
        XCTAssertGreaterThan(nonEmpty, 100, "the queries must find something to prove anything")
    }

    func testKeysMergeRemoveAndSummary() throws {
        var random = Random(state: 7)
        let index = try SourceIndex(path: path)
        let a = randomEntries(100, random: &random), b = randomEntries(50, random: &random)
        let sizeA = a.last!.offset + Int64(a.last!.length) + 1, sizeB = b.last!.offset + Int64(b.last!.length) + 1
        XCTAssertTrue(try index.addFile("a", size: sizeA) { add in for e in a { try add(e) } })
        XCTAssertFalse(try index.addFile("a", size: sizeA) { _ in XCTFail("an indexed file is not read again") })
        try index.addFile("b", size: sizeB) { add in for e in b { try add(e) } }
        XCTAssertEqual(try index.summary().features, 150)
        XCTAssertEqual(try index.summary().maxSourceID, 100)

        let hits = try index.entries(withKeys: ["7"])
        XCTAssertEqual(hits.map(\.entry), a.filter { $0.key == "7" } + b.filter { $0.key == "7" })
        XCTAssertEqual(Set(hits.map(\.file)), ["a", "b"])

        try index.merge(["a", "b"], into: "m", size: sizeA + sizeB)
        XCTAssertEqual(try index.files().map(\.name), ["m"])
        let moved = b.map { e -> SourceIndex.Entry in var e = e; e.offset += sizeA; return e }
        let everything = BoundingBox(west: -400, south: -100, east: 400, north: 100)
        var found: [SourceIndex.Entry] = []
        try index.entries(in: "m", probes: Self.probes(everything), touching: everything) { found.append($0); return true }
        XCTAssertEqual(found, (a + moved).filter { $0.bbox != nil }, "rows keep source order at their new offsets")
        XCTAssertThrowsError(try index.merge(["m"], into: "n", size: 1), "a size that does not add up is refused")
        XCTAssertEqual(try index.files().map(\.name), ["m"], "and changes nothing")

        try index.removeFiles(["m"])
        XCTAssertEqual(try index.summary().features, 0)
        XCTAssertEqual(try index.database.scalarInt("SELECT count(*) FROM features"), 0)
        XCTAssertNil(try index.summary().maxSourceID)
    }

    func testACellHoldsItsBoxAndIsTheSmallestThatDoes() {
        var random = Random(state: 3)
        let n = Double(1 << SourceCell.maxLevel)
        for _ in 0..<5000 {
            let x0 = random.double(-0.1...1), y0 = random.double(-0.1...1)
            let x1 = x0 + random.double(0...0.3) * random.double(0...1), y1 = y0 + random.double(0...0.01)
            let cell = SourceCell(x0: x0, y0: y0, x1: x1, y1: y1)
            let (a, b) = (SourceCell.morton(SourceCell.grid(x0), SourceCell.grid(y0)), SourceCell.morton(SourceCell.grid(x1), SourceCell.grid(y1)))
            XCTAssertTrue((cell.start...cell.end).contains(a) && (cell.start...cell.end).contains(b), "corners inside the cell")
            if cell.level < SourceCell.maxLevel {
                // One level down, the corners fall into different cells.
                let shift = SourceCell.maxLevel - cell.level - 1
                let (gx0, gy0, gx1, gy1) = (SourceCell.grid(x0) >> shift, SourceCell.grid(y0) >> shift, SourceCell.grid(x1) >> shift, SourceCell.grid(y1) >> shift)
                XCTAssertTrue(gx0 != gx1 || gy0 != gy1)
            }
            XCTAssertLessThanOrEqual(SourceCell.grid(x1), Int(n) - 1)
        }
        XCTAssertEqual(SourceCell(x0: 0, y0: 0, x1: 1, y1: 1).level, 0)
        XCTAssertEqual(SourceCell(x0: 0.3, y0: 0.3, x1: 0.3, y1: 0.3).level, 14)
    }

    func testAFileThatIsNotAnIndexIsRefused() throws {
        try Data("this is not sqlite at all, just bytes".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SourceIndex(path: path))
        try FileManager.default.removeItem(atPath: path)
        let other = try SQLiteDatabase(path: path)
        try other.execute("CREATE TABLE t (x); PRAGMA user_version = 1;")
        XCTAssertThrowsError(try SourceIndex(path: path)) { error in
            guard case StorageError.invalid = error else { return XCTFail("\(error)") }
        }
    }
}
