import Foundation
import GeoModel
@testable import Storage
import XCTest

final class PMTilesTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "pmtiles-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A real gzip member (of empty content); `tag` varies the mtime bytes so blobs differ.
    private func blob(_ tag: UInt32) -> [UInt8] {
        let t = withUnsafeBytes(of: tag.littleEndian) { Array($0) }
        return [0x1F, 0x8B, 0x08, 0x00] + t + [0x00, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
    }

    private let metadata: [(name: String, value: String)] = [
        ("name", "trails"), ("format", "pbf"), ("minzoom", "0"), ("maxzoom", "2"), ("bounds", "-10.5,40.25,20,60"),
        ("center", "4.75,50.125,1"), ("attribution", "© us"), ("description", "d"), ("type", "overlay"), ("version", "1"),
        ("json", #"{"vector_layers":[{"id":"l","fields":{"n":"Number"}}],"tilestats":{"layerCount":1}}"#),
    ]

    func testHilbertTileIDsMatchTheSpecTable() {
        XCTAssertEqual(TileID(z: 0, x: 0, y: 0).hilbertID, 0)
        XCTAssertEqual(TileID(z: 1, x: 0, y: 0).hilbertID, 1)
        XCTAssertEqual(TileID(z: 1, x: 0, y: 1).hilbertID, 2)
        XCTAssertEqual(TileID(z: 1, x: 1, y: 1).hilbertID, 3)
        XCTAssertEqual(TileID(z: 1, x: 1, y: 0).hilbertID, 4)
        XCTAssertEqual(TileID(z: 2, x: 0, y: 0).hilbertID, 5)
        XCTAssertEqual(TileID(z: 12, x: 3423, y: 1763).hilbertID, 19_078_479)
        for _ in 0..<2000 {
            let z = Int.random(in: 0...30)
            let id = TileID(z: z, x: Int.random(in: 0..<(1 << z)), y: Int.random(in: 0..<(1 << z)))
            XCTAssertEqual(TileID(hilbertID: id.hilbertID), id)
        }
        // Every ID of zoom 3 maps to a distinct tile, in order.
        let z3 = (TileID.firstHilbertID(zoom: 3)..<TileID.firstHilbertID(zoom: 4)).compactMap { TileID(hilbertID: $0) }
        XCTAssertEqual(Set(z3).count, 64)
        XCTAssertTrue(z3.allSatisfy { $0.z == 3 })
        XCTAssertNil(TileID(hilbertID: UInt64.max))
    }

    func testDirectoryRoundTripAndHostileBytes() {
        let entries = [PMTilesEntry(tileID: 5, offset: 0, length: 10, runLength: 1), PMTilesEntry(tileID: 6, offset: 10, length: 3, runLength: 4),
                       PMTilesEntry(tileID: 400, offset: 0, length: 10, runLength: 1)]
        let bytes = PMTilesDirectory.encode(entries[...])
        XCTAssertEqual(try PMTilesDirectory.decode(bytes).get(), entries)
        // Contiguous offsets are written as 0 (§4.2): the second entry's offset costs one byte.
        XCTAssertEqual(Array(bytes.suffix(3)), [1, 0, 1])

        let hostile: [(String, [UInt8])] = [
            ("empty", []),
            ("count larger than the bytes", [0xFF, 0xFF, 0x03, 1, 1, 1, 1]),
            ("varint over 64 bits", [1] + [UInt8](repeating: 0xFF, count: 11)),
            ("truncated varint", [1, 0x80]),
            ("zero length", [1, 5, 1, 0, 1]),
            ("first offset 0", [1, 5, 1, 1, 0]),
            ("not ascending", [2, 5, 0, 1, 1, 1, 1, 1, 1]),
            ("left over bytes", [1, 5, 1, 1, 1, 9]),
            ("zero entries", [0, 0, 0, 0]),
        ]
        for (what, bytes) in hostile {
            guard case .failure(let error) = PMTilesDirectory.decode(bytes) else { return XCTFail("\(what) was accepted") }
            XCTAssertFalse(error.description.isEmpty)
        }
    }

    func testWritesAClusteredDeduplicatedArchiveTheReaderReadsBack() throws {
        let path = dir + "/out.pmtiles"
        let w = try PMTilesWriter(path: path)
        var expected: [TileID: [UInt8]] = [:]
        var ids: [TileID] = []
        for z in 0...2 { for x in 0..<(1 << z) { for y in 0..<(1 << z) { ids.append(TileID(z: z, x: x, y: y)) } } }
        for id in ids.shuffled() {
            let data = id.z == 2 && id.x < 2 ? blob(7) : blob(UInt32(id.hilbertID) + 100)   // 8 identical "ocean" tiles
            expected[id] = data
            try w.write(id, data: data)
        }
        try w.write(TileID(z: 0, x: 0, y: 0), data: blob(1))   // a rewrite wins, as in MBTiles
        expected[TileID(z: 0, x: 0, y: 0)] = blob(1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing at the target before finish")
        try w.finish(metadata: metadata)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.pmtiles"], "temporary and spool files gone")

        let r = try PMTilesReader(path: path)
        XCTAssertEqual(try r.validate(), [])
        XCTAssertTrue(r.header.clustered)
        XCTAssertEqual(r.header.addressedTiles, 21)
        XCTAssertEqual(r.header.tileContents, 14, "8 identical tiles stored once; the overwritten blob is dropped")
        XCTAssertEqual(r.header.tileDataLength, 14 * 20)
        XCTAssertEqual(r.header.leafLength, 0, "small archives need no leaves")
        XCTAssertEqual(r.header.minZoom, 0)
        XCTAssertEqual(r.header.maxZoom, 2)
        XCTAssertEqual(r.header.bounds.west, -10.5)
        XCTAssertEqual(r.header.center.lat, 50.125)
        XCTAssertEqual(r.header.centerZoom, 1)
        for (id, data) in expected { XCTAssertEqual(try r.tile(id), data, "\(id)") }
        XCTAssertNil(try r.tile(TileID(z: 3, x: 0, y: 0)))
        var seen: [TileID: [UInt8]] = [:]
        var last: UInt64?
        try r.forEachTile { id, data in
            XCTAssertTrue(last.map { $0 < id.hilbertID } ?? true, "TileID order")
            last = id.hilbertID
            seen[id] = data
        }
        XCTAssertEqual(seen, expected)
        // Runs: identical tiles at consecutive TileIDs share one entry.
        XCTAssertLessThan(r.header.tileEntries, r.header.addressedTiles)

        let json = try r.metadataJSON()
        XCTAssertEqual(json["name"], "trails")
        XCTAssertEqual(json["attribution"], "© us")
        XCTAssertEqual(json["vector_layers"]?.arrayValue?.count, 1)
        XCTAssertNotNil(json["tilestats"])
        XCTAssertNil(json["json"])
        let rows = try r.metadata()
        for (name, value) in metadata where name != "json" && name != "bounds" && name != "center" {
            XCTAssertEqual(rows[name], value, name)
        }
        XCTAssertEqual(rows["bounds"], "-10.5,40.25,20,60")
        XCTAssertEqual(rows["center"], "4.75,50.125,1")
        XCTAssertEqual(try JSONParser.parse(rows["json"] ?? ""), try JSONParser.parse(metadata.last!.value))
        XCTAssertTrue(try TileArchiveFormat.open(path: path) is PMTilesReader)
    }

    func testAbortAndFailuresLeaveNothingBehind() throws {
        let path = dir + "/out.pmtiles"
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        let w = try PMTilesWriter(path: path)
        try w.write(TileID(z: 0, x: 0, y: 0), data: blob(1))
        w.abort()
        XCTAssertThrowsError(try w.write(TileID(z: 0, x: 0, y: 0), data: blob(1)))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.pmtiles"])
        XCTAssertThrowsError(try PMTilesWriter(path: dir + "/missing/out.pmtiles"))
    }

    /// A z0–14 archive with more than a million addressed tiles: the root cannot hold every
    /// entry, so the writer uses leaf directories; every entry reads back, runs included.
    func testMillionTileArchiveUsesLeafDirectories() throws {
        let path = dir + "/big.pmtiles"
        let w = try PMTilesWriter(path: path)
        let blobs = (0..<4).map { blob(UInt32($0)) }
        for z in 0...10 {
            let n = min(1 << z, 64)
            for x in 0..<n { for y in 0..<n { try w.write(TileID(z: z, x: x, y: y), data: blobs[(x + y) & 3]) } }
        }
        // A 1024 × 1024 block at z14 (aligned, so one contiguous Hilbert range): 1,048,576
        // tiles; 2 × 2 blocks share a blob chosen pseudo-randomly, so runs and their
        // entries are irregular and the directory cannot fit the first 16 KiB.
        let x0 = 8192, y0 = 5120
        func pick(_ x: Int, _ y: Int) -> Int { Int(((UInt64(x >> 1) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(y >> 1) &* 0xC2B2_AE3D_27D4_EB4F)) >> 61) & 3 }
        for x in x0..<x0 + 1024 { for y in y0..<y0 + 1024 { try w.write(TileID(z: 14, x: x, y: y), data: blobs[pick(x, y)]) } }
        try w.finish(metadata: [("name", "big"), ("format", "pbf"), ("json", #"{"vector_layers":[]}"#)])

        let r = try PMTilesReader(path: path)
        XCTAssertGreaterThan(r.header.addressedTiles, 1_000_000)
        XCTAssertGreaterThan(r.header.leafLength, 0, "leaf directories are used")
        XCTAssertLessThanOrEqual(r.header.rootOffset + r.header.rootLength, 16_384)
        XCTAssertEqual(r.header.tileContents, 4)
        XCTAssertEqual(r.header.minZoom, 0)
        XCTAssertEqual(r.header.maxZoom, 14)
        XCTAssertEqual(r.header.addressedTiles, UInt64(w.tilesWritten))
        XCTAssertEqual(try r.validate(), [], "entries ascending, leaves in range, counts as in the header, clustered")
        XCTAssertGreaterThan(r.header.tileEntries, 100_000)
        for _ in 0..<100 {
            let x = Int.random(in: x0..<x0 + 1024), y = Int.random(in: y0..<y0 + 1024)
            XCTAssertEqual(try r.tile(TileID(z: 14, x: x, y: y)), blobs[pick(x, y)])
        }
        XCTAssertEqual(try r.tile(TileID(z: 10, x: 63, y: 1)), blobs[0])
        XCTAssertNil(try r.tile(TileID(z: 14, x: x0 - 1, y: y0)))
        XCTAssertNil(try r.tile(TileID(z: 13, x: 0, y: 0)))

        try PythonPMTiles.check(path, arguments: ["--sample", "40"])
    }

    /// Leaves are built the same way at any size: a small leaf size forces them on 300 tiles.
    func testSmallLeafSizeStillReadsBack() throws {
        let path = dir + "/leaves.pmtiles"
        let w = try PMTilesWriter(path: path, initialLeafSize: 16, maxRootBytes: 40)
        var all: [TileID] = []
        for x in 0..<16 { for y in 0..<16 where (x * 7 + y * 3) % 5 != 0 { all.append(TileID(z: 4, x: x, y: y)) } }
        func data(_ id: TileID) -> [UInt8] { blob(UInt32(id.x * 16 + id.y)) + [UInt8](repeating: 9, count: (id.x * id.y) % 13) }
        for id in all { try w.write(id, data: data(id)) }
        try w.finish(metadata: metadata)
        let r = try PMTilesReader(path: path)
        XCTAssertGreaterThan(r.header.leafLength, 0)
        XCTAssertLessThanOrEqual(r.header.rootLength, 40)
        XCTAssertEqual(try r.validate(), [])
        for id in all { XCTAssertEqual(try r.tile(id), data(id)) }
    }

    func testHostileArchivesGiveErrors() throws {
        let path = dir + "/good.pmtiles"
        let w = try PMTilesWriter(path: path)
        for x in 0..<4 { for y in 0..<4 { try w.write(TileID(z: 2, x: x, y: y), data: blob(UInt32(x * 4 + y))) } }
        try w.finish(metadata: metadata)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let header = try PMTilesHeader(bytes: good, path: path)

        func expectError(_ bytes: [UInt8], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
            let bad = dir + "/bad.pmtiles"
            XCTAssertTrue(FileManager.default.createFile(atPath: bad, contents: Data(bytes)))
            do {
                let r = try PMTilesReader(path: bad)
                let problems = try r.validate()
                var failed = !problems.isEmpty
                do { try r.forEachTile { _, _ in } } catch { failed = true }
                XCTAssertTrue(failed, "\(what) was accepted", file: file, line: line)
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
            }
        }
        func patched(_ at: Int, _ value: UInt64) -> [UInt8] {
            var b = good
            for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            return b
        }
        expectError([], "empty file")
        expectError(Array(good.prefix(100)), "short header")
        expectError(Array(good.prefix(Int(header.tileDataOffset) + 5)), "truncated tile data")
        var v2 = good
        v2[7] = 2
        expectError(v2, "version 2")
        expectError(patched(16, 1 << 40), "root length past the end")
        expectError(patched(8, UInt64.max - 3), "root offset overflow")
        expectError(patched(64, 5), "tile data shorter than its entries")
        expectError(patched(32, 3), "truncated metadata")
        var garbled = good
        for i in Int(header.rootOffset) + 10..<Int(header.rootOffset + header.rootLength) { garbled[i] ^= 0x5A }
        expectError(garbled, "corrupt root gzip")
        // A gzip bomb in the root directory: 16 MiB of zeros inflates past the limit.
        var bomb = good
        let zeros = GzipCodec.compress([UInt8](repeating: 0, count: 16 << 20))
        bomb = Array(bomb.prefix(127)) + zeros
        bomb.replaceSubrange(8..<24, with: patched(8, 127)[8..<16] + patched(16, UInt64(zeros.count))[16..<24])
        expectError(bomb, "gzip bomb")
        // A root directory whose single entry is a leaf pointing at itself, endlessly.
        let loop = GzipCodec.compress(PMTilesDirectory.encode([PMTilesEntry(tileID: 0, offset: 0, length: 40, runLength: 0)][...]))
        var selfLeaf = Array(good.prefix(127)) + loop
        selfLeaf.replaceSubrange(16..<24, with: patched(16, UInt64(loop.count))[16..<24])
        selfLeaf.replaceSubrange(40..<56, with: patched(40, 127)[40..<48] + patched(48, UInt64(loop.count))[48..<56])
        expectError(selfLeaf, "leaf cycle")
        for _ in 0..<200 {
            var fuzz = good
            for _ in 0..<4 { fuzz[Int.random(in: 0..<fuzz.count)] = UInt8.random(in: 0...255) }
            let bad = dir + "/fuzz.pmtiles"
            XCTAssertTrue(FileManager.default.createFile(atPath: bad, contents: Data(fuzz)))
            if let r = try? PMTilesReader(path: bad) {
                _ = try? r.validate()
                _ = try? r.tile(TileID(z: 2, x: 1, y: 1))
                try? r.forEachTile { _, _ in }
            }
        }
    }
}

/// Runs Tests/Scripts/pmtiles_check.py (the `pmtiles` package from PyPI) on an archive;
/// skips the calling test, saying why, when python3 or the package is missing.
enum PythonPMTiles {
    static func check(_ archive: String, arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/pmtiles_check.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, archive] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { throw XCTSkip("python3 cannot be started (\(error)); the pmtiles package check was skipped") }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 3 || process.terminationStatus == 127 {
            throw XCTSkip("the Python pmtiles package is not installed (pip install pmtiles; .ci/run installs it); check skipped: \(output)")
        }
        XCTAssertEqual(process.terminationStatus, 0, "pmtiles_check.py: \(output)", file: file, line: line)
        print("pmtiles (Python): \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}
