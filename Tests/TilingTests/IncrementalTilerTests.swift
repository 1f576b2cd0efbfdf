import GeoModel
@testable import Tiling
import XCTest

/// A tileset held in memory the way the MBTiles keeps it: tiles and tile layer records,
/// updated by applying an `IncrementalUpdate` (a real store, just not a file).
final class MemoryTileStore: IncrementalTileStore {
    var tiles: [TileID: [UInt8]] = [:]
    var records: [TileID: [TileLayerRecord]] = [:]

    init(_ sink: CollectingSink, _ report: TilingReport) {
        tiles = sink.tiles
        for r in report.tileRecords { records[r.tile, default: []].append(r) }
    }

    func tile(_ id: TileID) throws -> [UInt8]? { tiles[id] }
    func records(_ id: TileID) throws -> [TileLayerRecord] { records[id] ?? [] }
    func tileCount() throws -> Int { tiles.count }

    func apply(_ u: IncrementalUpdate) {
        for (id, data) in u.tiles { tiles[id] = data.isEmpty ? nil : data }
        for id in u.dirtyTiles { records[id] = [] }
        for r in u.records { records[r.tile, default: []].append(r) }
    }

    /// Every record in tile order, as the MBTiles table's primary key returns them.
    var ordered: [TileLayerRecord] {
        records.values.flatMap { $0 }.sorted { ($0.tile.z, $0.tile.x, $0.tile.y, $0.layer) < ($1.tile.z, $1.tile.x, $1.tile.y, $1.layer) }
    }
}

/// SplitMix64: repeatable random maps.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class IncrementalTilerTests: XCTestCase {
    private var random = SeededRandom(state: 13)
    private var nextID = 1

    /// Features in a small area (so tiles fill up and caps are hit), with a few attributes.
    private func feature(_ kind: Int) -> Feature {
        func position() -> Position {
            Position(lon: Double.random(in: 5...15, using: &random), lat: Double.random(in: 45...52, using: &random))
        }
        let geometry: Geometry
        switch kind {
        case 0:
            geometry = .point(position())
        case 1:
            var p = position()
            var line = [p]
            for _ in 0..<Int.random(in: 2...8, using: &random) {
                p = Position(lon: p.lon + Double.random(in: -0.8...0.8, using: &random), lat: p.lat + Double.random(in: -0.5...0.5, using: &random))
                line.append(p)
            }
            geometry = .lineString(line)
        default:
            let c = position(), r = Double.random(in: 0.05...1.2, using: &random)
            var ring = (0..<7).map { i -> Position in
                let a = Double(i) / 7 * 2 * .pi
                return Position(lon: c.lon + r * cos(a), lat: c.lat + r * 0.7 * sin(a))
            }
            ring.append(ring[0])
            geometry = .polygon([ring])
        }
        defer { nextID += 1 }
        let kinds = ["school", "park", "shop", "road", "river"]
        var properties = JSONObject()
        properties["name"] = .string("feature \(nextID)")
        properties["kind"] = .string(kinds.randomElement(using: &random)!)
        properties["rank"] = .int(Int64.random(in: 1...9, using: &random))
        if Bool.random(using: &random) { properties["height"] = .double(Double(Int.random(in: 0...400, using: &random)) / 4) }
        return Feature(id: .int(Int64(nextID)), geometry: geometry, properties: properties)
    }

    private func fullRun(_ recipe: Recipe, _ sources: [String: [Feature]]) throws -> (CollectingSink, TilingReport) {
        let sink = CollectingSink()
        var tiler = Tiler(recipe: recipe, threads: 2)
        tiler.keepState = true
        let report = try tiler.run(resolveSource: { ArrayFeatureSource(sources[$0] ?? []) }, into: sink)
        return (sink, report)
    }

    /// Decoded tiles are equal: same layers, and per layer the same features (id, type,
    /// geometry commands, properties in order).
    private func assertSameTiles(_ a: [TileID: [UInt8]], _ b: [TileID: [UInt8]], _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(a.keys), Set(b.keys), "\(context): tile sets differ", file: file, line: line)
        for (id, data) in a {
            guard let other = b[id] else { continue }
            let x = try MVTTile(decoding: try Gzip.decompress(data)), y = try MVTTile(decoding: try Gzip.decompress(other))
            XCTAssertEqual(x.layers.map(\.name), y.layers.map(\.name), "\(context): tile \(id) layers", file: file, line: line)
            for (l, m) in zip(x.layers, y.layers) {
                XCTAssertEqual(l.features.count, m.features.count, "\(context): tile \(id) layer \(l.name) feature count", file: file, line: line)
                for (f, g) in zip(l.features, m.features) {
                    XCTAssertEqual(f.id, g.id, "\(context): tile \(id)", file: file, line: line)
                    XCTAssertEqual(f.type, g.type, "\(context): tile \(id)", file: file, line: line)
                    XCTAssertEqual(f.geometry, g.geometry, "\(context): tile \(id) feature \(f.id ?? 0) geometry", file: file, line: line)
                    XCTAssertEqual(l.properties(of: f).map(\.key), m.properties(of: g).map(\.key), "\(context): tile \(id)", file: file, line: line)
                    XCTAssertEqual(l.properties(of: f).map(\.value), m.properties(of: g).map(\.value), "\(context): tile \(id)", file: file, line: line)
                }
            }
        }
    }

    /// `layer_stats` as text with each capped tile's `layer_size` (the required size) left out.
    private func withoutRequiredSizes(_ v: JSONValue) -> String {
        func strip(_ v: JSONValue) -> JSONValue {
            switch v {
            case .object(var o):
                o["layer_size"] = nil
                for m in o { o[m.key] = strip(m.value) }
                return .object(o)
            case .array(let a): return .array(a.map(strip))
            default: return v
            }
        }
        return JSONWriter.string(strip(v))
    }

    /// Appends, one incremental publish each, must give the tiles, records, metadata and
    /// stats of a full rebuild over the same features.
    private func checkAppends(recipe: Recipe, sources names: [String], kinds: [Int], initial: Int, appends: Int) throws -> (incremental: Int, rebuilds: [String], stats: JSONValue) {
        var sources: [String: [Feature]] = [:]
        for (name, kind) in zip(names, kinds) { sources[name] = (0..<initial).map { _ in feature(kind) } }
        let (sink, report) = try fullRun(recipe, sources)
        var store = MemoryTileStore(sink, report)
        var state = try TilingState(decoding: try XCTUnwrap(report.state).encoded)
        var incremental = 0
        var rebuilds: [String] = []
        var stats = report.layerStats
        for step in 1...appends {
            var appended: [String: any FeatureSource] = [:]
            for (name, kind) in zip(names, kinds) where Int.random(in: 0...2, using: &random) > 0 || appended.isEmpty && name == names.last {
                let new = (0..<Int.random(in: 1...3, using: &random)).map { _ in feature(kind) }
                sources[name]! += new
                appended[name] = ArrayFeatureSource(new)
            }
            var tiler = IncrementalTiler(recipe: recipe, state: state, threads: 2)
            tiler.maxDirtyShare = 1
            let (fullSink, full) = try fullRun(recipe, sources)
            stats = full.layerStats
            switch try tiler.run(appended: appended, store: store) {
            case .rebuild(let why):
                rebuilds.append(why)
                store = MemoryTileStore(fullSink, full)
                state = try XCTUnwrap(full.state)
            case .update(let update):
                incremental += 1
                store.apply(update)
                state = try TilingState(decoding: update.state.encoded)
                let context = "append \(step)"
                try assertSameTiles(store.tiles, fullSink.tiles, context)
                XCTAssertEqual(JSONWriter.string(update.metadata.json), JSONWriter.string(full.metadata.json), "\(context): metadata json")
                XCTAssertEqual(update.metadata.bounds, full.metadata.bounds, "\(context): bounds")
                XCTAssertEqual(JSONWriter.string(update.recipe), JSONWriter.string(full.recipe), "\(context): recipe as run")
                XCTAssertEqual(update.state.featureCount, full.featureCount, "\(context): feature count")
                let stats = try update.report { body in for r in store.ordered { try body(r) } }
                XCTAssertEqual(stats.warnings, full.warnings, "\(context): warnings")
                for (r, s) in zip(store.ordered, full.tileRecords) where r != s {
                    // The one figure that is estimated rather than kept: a capped layer's required
                    // size (the keys and values of its dropped features are not stored).
                    var r2 = r
                    r2.requiredSize = s.requiredSize
                    XCTAssertEqual(r2, s, "\(context): record of \(r.tile) layer \(r.layer)")
                    let (x, y) = (try XCTUnwrap(r.requiredSize), try XCTUnwrap(s.requiredSize))
                    XCTAssertLessThanOrEqual(abs(x - y), y / 20, "\(context): required size \(x) of \(r.tile) is not within 5% of \(y)")
                }
                XCTAssertEqual(store.ordered.count, full.tileRecords.count, "\(context): record count")
                XCTAssertEqual(withoutRequiredSizes(stats.layerStats), withoutRequiredSizes(full.layerStats), "\(context): layer_stats")
            }
        }
        return (incremental, rebuilds, stats)
    }

    func testFiftyAppendsEqualFullRebuildsOnPointsLinesAndPolygonsWithCaps() throws {
        let recipe = try Recipe(json: try JSONParser.parse(#"""
            {"version": 1, "layers": {
              "points": {"source": "pts", "minzoom": 0, "maxzoom": 4, "tiles": {"layer_size": 2}},
              "lines": {"source": "lns", "minzoom": 1, "maxzoom": 4, "tiles": {"layer_size": 3},
                        "features": {"attributes": {"set": {"long": ["concat", ["get", "kind"], "-", ["get", "rank"]]}}}},
              "polygons": {"source": "pgs", "minzoom": 0, "maxzoom": 3, "tiles": {"layer_size": 4, "buffer_size": 4},
                           "features": {"simplification": ["case", ["<", ["zoom"], 3], 8, 2]}}
            }, "incremental": true}
            """#))
        XCTAssertTrue(recipe.incremental)
        let (incremental, rebuilds, stats) = try checkAppends(recipe: recipe, sources: ["pts", "lns", "pgs"], kinds: [0, 1, 2], initial: 25, appends: 50)
        XCTAssertEqual(incremental, 50, "every append is incremental; rebuilds: \(rebuilds)")
        for layer in ["points", "lines", "polygons"] {
            XCTAssertGreaterThan(stats[layer]?["capped"]?.intValue ?? 0, 1, "layer \(layer) hit its layer_size cap in several tiles")
        }
    }

    func testDefaultRecipeWithAutomaticMaxzoomStaysExactOrRebuilds() throws {
        var recipe = Recipe.defaultRecipe(map: "mixed", maxzoom: nil)
        recipe.layers[0].layerSize = 3
        let (incremental, rebuilds, _) = try checkAppends(recipe: recipe, sources: ["tiledrop://tileset-source/mixed"], kinds: [0], initial: 80, appends: 12)
        XCTAssertGreaterThan(incremental, 0, "rebuilds: \(rebuilds)")
        XCTAssertTrue(rebuilds.allSatisfy { $0.contains("automatic maxzoom") }, "\(rebuilds)")
    }

    func testOrderLimitRecipeChangeAndDirtyShareFallBack() throws {
        let ordered = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"l": {"source": "s", "minzoom": 0, "maxzoom": 2, "tiles": {"order": "rank"}}}}"#))
        XCTAssertNotNil(IncrementalTiler.unsupported(ordered))
        let plain = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"l": {"source": "s", "minzoom": 0, "maxzoom": 2}}}"#))
        let features = (0..<10).map { _ in feature(0) }
        let (sink, report) = try fullRun(plain, ["s": features])
        let store = MemoryTileStore(sink, report)
        let other = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"l": {"source": "s", "minzoom": 0, "maxzoom": 3}}}"#))
        guard case .rebuild(let why) = try IncrementalTiler(recipe: other, state: report.state!).run(appended: [:], store: store) else {
            return XCTFail("a changed recipe must rebuild")
        }
        XCTAssertTrue(why.contains("recipe changed"), why)
        var tiler = IncrementalTiler(recipe: plain, state: report.state!)
        tiler.maxDirtyShare = 0.01
        guard case .rebuild(let share) = try tiler.run(appended: ["s": ArrayFeatureSource([feature(0)])], store: store) else {
            return XCTFail("too many dirty tiles must rebuild")
        }
        XCTAssertTrue(share.contains("touch more than"), share)
        XCTAssertThrowsError(try TilingState(decoding: Array("not a state".utf8)))
    }
}
