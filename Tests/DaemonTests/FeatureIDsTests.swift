import Foundation
import Formats
import GeoModel
import Storage
import SystemSupport
import XCTest
@testable import Daemon

/// Stable feature ids and the spatial index, on a real temporary root with the real ingest
/// worker: ids through appends, compaction, changesets and old id-less sources; the index
/// against a scan of the sources; the tile reader against brute force.
final class FeatureIDsTests: XCTestCase {
    private var fixture: TemporaryDesk!
    private var root: String { fixture.root }
    private var desk: ServiceDesk { fixture.desk }

    override func setUpWithError() throws {
        fixture = try TemporaryDesk(prefix: "tiledrop-ids-") {
            $0.defaultMaxzoom = 2
            $0.maxSourceFiles = 3
        }
    }

    override func tearDownWithError() throws {
        fixture.tearDown()
    }

    private func feature(_ key: String, lon: Double, lat: Double, geometry: String? = nil) -> String {
        let g = geometry ?? #"{"type":"Point","coordinates":[\#(lon),\#(lat)]}"#
        return #"{"type":"Feature","id":"\#(key)","properties":{"k":"\#(key)"},"geometry":\#(g)}"#
    }

    @discardableResult
    private func ingest(_ lines: [String], map: String = "m", replace: Bool = false) throws -> IngestRecord {
        let path = try desk.newStagingFile(map: map)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let record = try desk.ingestStaged(path, map: map, filename: "f.geojsonl", group: nil, replace: replace)
        XCTAssertEqual(record.state, .completed, "\(record.errors)")
        return record
    }

    /// Every line of the map's committed sources, in source order: (file name, entry, feature).
    private func scan(map: String = "m") throws -> [(file: String, entry: SourceIndex.Entry, feature: Feature?)] {
        var out: [(String, SourceIndex.Entry, Feature?)] = []
        for path in try desk.indexer.sourceFiles(map: map) {
            let reader = try SourceLineReader(path: path)
            while let line = try reader.next() { out.append((FileSystem.name(of: path), SourceIndexer.entry(line), line.feature)) }
        }
        return out
    }

    /// The index holds exactly the lines of the sources, file by file, in order.
    private func assertIndexMatchesSources(map: String = "m", file: StaticString = #filePath, line: UInt = #line) throws {
        let index = try desk.indexer.synchronize(map: map)
        let lines = try scan(map: map)
        let everything = BoundingBox(west: -1000, south: -1000, east: 1000, north: 1000)
        var indexed: [String] = []
        for path in try desk.indexer.sourceFiles(map: map) {
            try index.entries(in: FileSystem.name(of: path), probes: SourceCell.probes(mercator: everything), touching: everything) { indexed.append("\(FileSystem.name(of: path)) \($0)"); return true }
        }
        XCTAssertEqual(indexed, lines.filter { $0.entry.bbox != nil }.map { "\($0.file) \($0.entry)" }, file: file, line: line)
        XCTAssertEqual(try index.summary().features, lines.count, file: file, line: line)
        XCTAssertEqual(Set(try index.files().map(\.name)), Set(lines.map(\.file)), file: file, line: line)
    }

    private func counter(_ map: String = "m") throws -> Int64 {
        try desk.store.with { db throws(StorageError) in try db.nextFeatureID(map: map) }
    }

    func testIdsAreAssignedInOrderAndSurviveCompactionAndChangesets() throws {
        for file in 0..<5 {
            try ingest((0..<4).map { feature("f\(file * 4 + $0)", lon: Double(file * 4 + $0), lat: 1) })
            XCTAssertEqual(try scan().map(\.entry.sourceID), (1...Int64(file * 4 + 4)).map { $0 }, "ids 1… in source order after ingest \(file)")
            try assertIndexMatchesSources()
        }
        XCTAssertLessThanOrEqual(try desk.indexer.sourceFiles(map: "m").count, 3, "compaction ran (max_source_files = 3)")
        XCTAssertEqual(try counter(), 21)
        let before = Dictionary(uniqueKeysWithValues: try scan().map { ($0.entry.key!, $0.entry.sourceID!) })

        // A changeset: f2 replaced, f3 deleted, g new.
        let lines = [feature("f2", lon: 50, lat: 5), #"{"id":"f3","delete":true}"#, feature("g", lon: 60, lat: 6)]
        let outcome = try desk.publishChangeset(tileset: "m") { fd, name in
            try FileSystem.writeAll(fd, Array((lines.joined(separator: "\n") + "\n").utf8)[...], target: name)
        }
        XCTAssertEqual(outcome.replaced, 2)
        let after = try scan()
        let ids = Dictionary(uniqueKeysWithValues: after.map { ($0.entry.key!, $0.entry.sourceID!) })
        XCTAssertNil(ids["\"f3\""])
        XCTAssertEqual(ids["\"f2\""], before["\"f2\""], "an upsert keeps the id of the feature it replaces")
        XCTAssertEqual(ids["\"g\""], 21, "a new feature gets the next id")
        for (key, id) in before where key != "\"f3\"" { XCTAssertEqual(ids[key], id, key) }
        XCTAssertEqual(after.last?.feature?.geometry, .point(Position(lon: 60, lat: 6)))
        XCTAssertEqual(try counter(), 22)
        try assertIndexMatchesSources()
        XCTAssertEqual(try desk.sources().first { $0.map == "m" }?.features, after.count, "the MTS source shows the index's count")

        // A rewrite whose upsert is not a valid feature is refused, naming it, and changes nothing.
        let broken = [feature("f5", lon: 0, lat: 0, geometry: #"{"type":"LineString","coordinates":[[1,2]]}"#)]
        XCTAssertThrowsError(try desk.publishChangeset(tileset: "m") { fd, name in
            try FileSystem.writeAll(fd, Array((broken.joined(separator: "\n") + "\n").utf8)[...], target: name)
        }) { XCTAssertTrue("\($0)".contains("f5") && "\($0)".contains("at least 2 positions"), "\($0)") }
        XCTAssertEqual(try scan().map(\.entry.sourceID), after.map(\.entry.sourceID))

        // A replace drop starts over with new ids; the counter never goes back.
        try ingest([feature("r", lon: 0, lat: 0)], replace: true)
        XCTAssertEqual(try scan().map(\.entry.sourceID), [22])
        try assertIndexMatchesSources()
    }

    func testADroppedTiledropIdIsNotTrustedAndAnOldStateDBCannotRepeatIds() throws {
        try ingest([feature("a", lon: 1, lat: 1), feature("b", lon: 2, lat: 2)])
        try ingest([#"{"type":"Feature","tiledrop_id":1,"properties":{},"geometry":{"type":"Point","coordinates":[3,3]}}"#])
        XCTAssertEqual(try scan().map(\.entry.sourceID), [1, 2, 3])
        // A state.db restored from before these ingests: start-up raises the counter again.
        try desk.store.with { db throws(StorageError) in try db.db.execute("UPDATE maps SET next_feature_id = 2") }
        desk.ingestQueue.sync { desk.processor.refreshIndexes() }
        XCTAssertEqual(try counter(), 4)
        try ingest([feature("c", lon: 4, lat: 4)])
        XCTAssertEqual(try scan().map(\.entry.sourceID), [1, 2, 3, 4])
    }

    func testSourcesWithoutIdsGetThemAtCompactionAndADamagedIndexIsRebuilt() throws {
        try ingest([feature("a", lon: 1, lat: 1), feature("b", lon: 2, lat: 2)])
        try ingest([feature("c", lon: 3, lat: 3)])
        // Make the first file look written by a version before ids.
        let first = try desk.indexer.sourceFiles(map: "m")[0]
        let text = try String(contentsOfFile: first, encoding: .utf8)
        let old = text.replacing(#/"tiledrop_id":\d+,/#, with: "")
        try old.write(toFile: first, atomically: false, encoding: .utf8)
        try assertIndexMatchesSources() // the size changed: the file is indexed again
        XCTAssertEqual(try scan().map(\.entry.sourceID), [nil, nil, 3])

        // A damaged index is rebuilt from the sources.
        let indexPath = desk.indexer.indexPath(map: "m")
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: indexPath))
        try? FileManager.default.removeItem(atPath: indexPath + "-wal")
        try? FileManager.default.removeItem(atPath: indexPath + "-shm")
        try assertIndexMatchesSources()

        try ingest([feature("d", lon: 4, lat: 4)])
        try ingest([feature("e", lon: 5, lat: 5)]) // 4 files > 3: compaction stamps a and b
        XCTAssertEqual(try desk.indexer.sourceFiles(map: "m").count, 1)
        let ids = try scan().map(\.entry.sourceID)
        XCTAssertEqual(ids, [6, 7, 3, 4, 5], "the id-less lines get the next ids; the others keep theirs")
        XCTAssertEqual(try counter(), 8)
        let merged = try String(contentsOfFile: try desk.indexer.sourceFiles(map: "m")[0], encoding: .utf8)
        XCTAssertTrue(merged.replacing(#/"tiledrop_id":\d+,/#, with: "").hasPrefix(old), "only the ids were added to the old lines")
        XCTAssertEqual(try scan().map { $0.feature?.properties["k"]?.stringValue }, ["a", "b", "c", "d", "e"])
        try assertIndexMatchesSources()
        XCTAssertEqual(try desk.indexer.synchronize(map: "m").files().map(\.withoutIDs), [0])

        XCTAssertTrue(try desk.deleteSource(map: "m"))
        XCTAssertNil(try FileSystem().status(indexPath), "deleting the source deletes its index")
    }

    func testTheTileReaderEqualsBruteForce() throws {
        var seed: UInt64 = 99
        func random(_ range: ClosedRange<Double>) -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return range.lowerBound + Double(seed >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
        }
        var n = 0
        for _ in 0..<3 {
            var lines: [String] = []
            for _ in 0..<400 {
                n += 1
                let lon = random(-179...179), lat = random(-84...84)
                switch n % 5 {
                case 0: lines.append(feature("l\(n)", lon: 0, lat: 0, geometry: #"{"type":"LineString","coordinates":[[\#(lon),\#(lat)],[\#(min(180, lon + random(0...30))),\#(min(85, lat + random(0...10)))]]}"#))
                case 1:
                    let (e, s) = (min(180, lon + random(0...5)), max(-85, lat - random(0...5)))
                    lines.append(feature("p\(n)", lon: 0, lat: 0, geometry: #"{"type":"Polygon","coordinates":[[[\#(lon),\#(lat)],[\#(e),\#(lat)],[\#(e),\#(s)],[\#(lon),\#(lat)]]]}"#))
                case 2 where n % 7 == 0: lines.append(feature("n\(n)", lon: 0, lat: 0, geometry: "null"))
                default: lines.append(feature("x\(n)", lon: lon, lat: lat))
                }
            }
            try ingest(lines)
        }
        let all = try scan()
        var checked = 0
        for z in [0, 1, 3, 6, 9] {
            for _ in 0..<12 {
                let size = Double(1 << z)
                let tile = TileID(z: z, x: Int(random(0...(size - 1))), y: Int(random(0...(size - 1))))
                for buffer in [0, 0.05, 0.5] {
                    let box = MapFeatureReader.box(of: tile, buffer: buffer)
                    let expected = all.filter { $0.entry.bbox?.intersects(box) ?? false }.map { $0.feature!.sourceID! }
                    var found: [Int64] = []
                    try MapFeatureReader(indexer: desk.indexer, map: "m", tile: tile, buffer: buffer).forEachFeature { found.append($0.sourceID!) }
                    XCTAssertEqual(found, expected, "\(tile) buffer \(buffer)")
                    if !expected.isEmpty { checked += 1 }
                }
            }
        }
        XCTAssertGreaterThan(checked, 40, "enough tiles hold features to prove anything")
        let world = MapFeatureReader.box(of: TileID(z: 0, x: 0, y: 0), buffer: 0)
        XCTAssertEqual([world.west, world.east], [-180, 180])
        XCTAssertEqual([world.south, world.north], [-.infinity, .infinity], "the Mercator clamp puts the poles in the edge rows")
        let east = MapFeatureReader.box(of: TileID(z: 1, x: 1, y: 1), buffer: 0.5)
        XCTAssertEqual(east.west, -90, accuracy: 1e-9)
        XCTAssertEqual(east.north, WebMercatorLatitude.at(y: 0.25), accuracy: 1e-9)
    }
}

/// The latitude at Mercator y (0 at the top, 1 at the bottom), for the box test above.
private enum WebMercatorLatitude {
    static func at(y: Double) -> Double { atan(sinh(.pi * (1 - 2 * y))) * 180 / .pi }
}
