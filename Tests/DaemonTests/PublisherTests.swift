import Daemon
import Foundation
import GeoModel
import Storage
import Tiling
import XCTest

/// Publisher: recipe + file sources → an MBTiles file, with the MTS-shaped report.
final class PublisherTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "publisher-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func write(_ name: String, _ text: String) {
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8)))
    }

    func testPublishesFileSourcesRelativeToTheRecipe() throws {
        write("data/places.geojson", """
            {"type": "FeatureCollection", "features": [
              {"type": "Feature", "id": 1, "properties": {"name": "Oslo", "pop": 700000}, "geometry": {"type": "Point", "coordinates": [10.75, 59.91]}},
              {"type": "Feature", "id": 2, "properties": {"name": "Lima", "pop": 10000000}, "geometry": {"type": "Point", "coordinates": [-77.03, -12.04]}}]}
            """)
        write("data/area.geojsonl", #"{"type": "Feature", "properties": {"kind": "box"}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [20, 0], [20, 20], [0, 20], [0, 0]]]}}"# + "\n")
        let recipe = try Recipe(json: try JSONParser.parse("""
            {"version": 1, "layers": {"places": {"source": "data/places.geojson", "minzoom": 0, "maxzoom": 4},
                                      "areas": {"source": "data/area.geojsonl", "minzoom": 2, "maxzoom": 3}}}
            """))
        let out = dir + "/out.mbtiles"
        let report = try Publisher(name: "test", attribution: "© test").publish(recipe: recipe, recipeDirectory: dir, resolveSource: { s in
            XCTFail("file sources must not go to the resolver: \(s)")
            return ArrayFeatureSource([])
        }, outputPath: out)
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.featureCount, 3)
        XCTAssertEqual(report.json["stage"], "success")
        XCTAssertEqual(report.json["tilesetId"], "test")
        XCTAssertEqual(report.json.objectValue?.keys, ["stage", "tilesetId", "errors", "warnings", "recipe", "layer_stats"], "exactly the MTS job fields")
        XCTAssertEqual(report.layerStats["places"]?["total_tiles"], 9, "one tile at z0, two per zoom after")
        XCTAssertEqual(report.layerStats["areas"]?["minzoom"], 2)

        let reader = try MBTilesReader(path: out)
        XCTAssertEqual(try reader.validate(), [])
        let meta = try reader.metadata()
        XCTAssertEqual(meta["name"], "test")
        XCTAssertEqual(meta["format"], "pbf")
        XCTAssertEqual(meta["minzoom"], "0")
        XCTAssertEqual(meta["maxzoom"], "4")
        XCTAssertEqual(meta["attribution"], "© test")
        XCTAssertEqual(meta["bounds"], "-77.03,-12.04,20,59.91")
        let json = try JSONParser.parse(try XCTUnwrap(meta["json"]))
        XCTAssertEqual(json["vector_layers"]?.arrayValue?.compactMap { $0["id"]?.stringValue }, ["places", "areas"])
        XCTAssertEqual(json["tilestats"]?["layerCount"], 2)
        let stored = try XCTUnwrap(try reader.tile(TileID(z: 0, x: 0, y: 0)))
        let tile = try MVTTile(decoding: try Gzip.decompress(stored))
        XCTAssertEqual(tile.layers.map(\.name), ["places"])
        XCTAssertEqual(tile.layers[0].features.map(\.id), [1, 2])
    }

    func testFailureLeavesNoFileBehind() throws {
        let recipe = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"x": {"source": "data/missing.geojson", "minzoom": 0, "maxzoom": 1}}}"#))
        XCTAssertThrowsError(try Publisher().publish(recipe: recipe, recipeDirectory: dir, resolveSource: { _ in ArrayFeatureSource([]) }, outputPath: dir + "/out.mbtiles"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["data"], "no output and no temporary file")
    }

    func testTiledropSourcesGoToTheResolver() throws {
        let recipe = Recipe.defaultRecipe(map: "trips", maxzoom: 10)
        var asked: [String] = []
        let feature = Feature(geometry: .lineString([Position(lon: 0, lat: 0), Position(lon: 1, lat: 1)]))
        let report = try Publisher().publish(recipe: recipe, recipeDirectory: nil, resolveSource: { s in
            asked.append(s)
            return ArrayFeatureSource([feature])
        }, outputPath: dir + "/trips.mbtiles")
        XCTAssertEqual(asked, ["tiledrop://tileset-source/trips"])
        XCTAssertEqual(report.layerStats["trips"]?["linestring_count"]?.intValue.map { $0 > 0 }, true)
        XCTAssertEqual(try MBTilesReader(path: dir + "/trips.mbtiles").metadata()["name"], "trips")
    }

    /// One tiler run feeds both containers: the PMTiles holds exactly the MBTiles' tiles
    /// and metadata; a failure leaves neither (nor their temporary files).
    func testPublishesMBTilesAndPMTilesFromOneRun() throws {
        write("data/area.geojsonl", #"{"type": "Feature", "properties": {"kind": "box"}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [20, 0], [20, 20], [0, 20], [0, 0]]]}}"# + "\n")
        let recipe = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"areas": {"source": "data/area.geojsonl", "minzoom": 0, "maxzoom": 6}}}"#))
        let outputs = [dir + "/both.mbtiles", dir + "/both.pmtiles"]
        let report = try Publisher(attribution: "© both").publish(recipe: recipe, recipeDirectory: dir, resolveSource: { _ in ArrayFeatureSource([]) }, outputPaths: outputs)
        XCTAssertEqual(report.outputPaths, outputs)
        XCTAssertEqual(report.tilesetID, "both")
        let mb = try MBTilesReader(path: outputs[0])
        let pm = try PMTilesReader(path: outputs[1])
        XCTAssertEqual(try pm.validate(), [])
        var tiles: [TileID: [UInt8]] = [:]
        try mb.forEachTile { id, data in tiles[id] = data }
        XCTAssertEqual(tiles.count, report.tileCount)
        var seen = 0
        try pm.forEachTile { id, data in
            XCTAssertEqual(tiles[id], data, "\(id) byte for byte")
            seen += 1
        }
        XCTAssertEqual(seen, tiles.count)
        let rows = try mb.metadata(), pmRows = try pm.metadata()
        for key in ["name", "attribution", "minzoom", "maxzoom", "format", "generator"] { XCTAssertEqual(pmRows[key], rows[key], key) }
        XCTAssertEqual(try JSONParser.parse(pmRows["json"] ?? ""), try JSONParser.parse(rows["json"] ?? ""), "vector_layers and tilestats")

        let bad = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"x": {"source": "data/missing.geojson", "minzoom": 0, "maxzoom": 1}}}"#))
        XCTAssertThrowsError(try Publisher().publish(recipe: bad, recipeDirectory: dir, resolveSource: { _ in ArrayFeatureSource([]) },
                                                     outputPaths: [dir + "/x.mbtiles", dir + "/x.pmtiles"]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["both.mbtiles", "both.pmtiles", "data"])
    }

    /// Issue 9: nested arrays/objects (GPX coordinateProperties) stay out of default tilesets
    /// unless allowed_output asks for them.
    func testDefaultTilesetsLeaveNestedAttributesOutUnlessAllowed() throws {
        var props = JSONObject()
        props["name"] = "run"
        props["coordinateProperties"] = ["times": ["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"]]
        let feature = Feature(geometry: .lineString([Position(lon: 0, lat: 0), Position(lon: 1, lat: 1)]), properties: props)
        func fields(_ recipe: Recipe, _ name: String) throws -> [String] {
            _ = try Publisher().publish(recipe: recipe, recipeDirectory: nil, resolveSource: { _ in ArrayFeatureSource([feature]) }, outputPath: dir + "/\(name).mbtiles")
            let json = try JSONParser.parse(try XCTUnwrap(try MBTilesReader(path: dir + "/\(name).mbtiles").metadata()["json"]))
            return json["vector_layers"]?.arrayValue?.first?["fields"]?.objectValue?.keys.sorted() ?? []
        }
        XCTAssertEqual(try fields(Recipe.defaultRecipe(map: "gps", maxzoom: 3), "default"), ["name"])
        let asking = try Recipe(json: try JSONParser.parse("""
            {"version": 1, "layers": {"gps": {"source": "tiledrop://tileset-source/gps", "minzoom": 0, "maxzoom": 3,
             "features": {"attributes": {"allowed_output": ["name", "coordinateProperties"]}}}}}
            """))
        XCTAssertEqual(try fields(asking, "asking"), ["coordinateProperties", "name"])
    }

    /// Issue 9: `default_maxzoom = auto` chooses the zoom from the data and records why.
    func testAutomaticMaxzoomFollowsTheData() throws {
        // A 40 × 40 grid of points 0.0001° (~11 m) apart, and one of 0.01° (~1.1 km) apart.
        func grid(_ step: Double) -> [Feature] {
            (0..<1600).map { i in Feature(geometry: .point(Position(lon: Double(i % 40) * step, lat: Double(i / 40) * step))) }
        }
        func publish(_ features: [Feature], _ name: String) throws -> PublishReport {
            try Publisher().publish(recipe: Recipe.defaultRecipe(map: name, maxzoom: nil), recipeDirectory: nil,
                                    resolveSource: { _ in ArrayFeatureSource(features) }, outputPath: dir + "/\(name).mbtiles")
        }
        let dense = try publish(grid(0.0001), "dense")
        let sparse = try publish(grid(0.01), "sparse")
        let denseZoom = try XCTUnwrap(dense.metadata.maxzoom)
        let sparseZoom = try XCTUnwrap(sparse.metadata.maxzoom)
        XCTAssertGreaterThan(denseZoom, sparseZoom, "closer features need a higher zoom")
        XCTAssertLessThanOrEqual(denseZoom, ZoomGuess.cap)
        print("auto maxzoom: 11 m grid → z\(denseZoom), 1.1 km grid → z\(sparseZoom)")
        XCTAssertTrue((6...7).contains(denseZoom - sparseZoom), "100× closer is log2(100) ≈ 6.6 zooms more")
        let why = try XCTUnwrap(dense.layerStats["dense"]?["maxzoom_chosen"]?.stringValue)
        XCTAssertTrue(why.contains("z\(denseZoom) chosen from the data") && why.contains("feature spacing"), why)
        XCTAssertEqual(dense.recipe["layers"]?["dense"]?["maxzoom"]?.intValue, denseZoom, "the job's recipe shows the choice")
        // One point alone cannot be measured: the fallback is used, and said so.
        let single = try publish([Feature(geometry: .point(Position(lon: 1, lat: 1)))], "single")
        XCTAssertEqual(single.metadata.maxzoom, Recipe.fallbackMaxzoom)
        XCTAssertTrue(single.maxzoomChoices.first?.contains("fewer than two distinct locations") == true)
    }

    /// Issue 9: features dropped for layer_size are counted in a warning naming the worst tiles.
    func testLayerSizeDropsAreReportedWithTheWorstTiles() throws {
        var features: [Feature] = []
        for i in 0..<3000 {
            var props = JSONObject()
            props["label"] = .string(String(repeating: "x", count: 40) + String(i))
            features.append(Feature(geometry: .point(Position(lon: Double(i % 100) * 0.001, lat: Double(i / 100) * 0.001)), properties: props))
        }
        let recipe = try Recipe(json: try JSONParser.parse("""
            {"version": 1, "layers": {"dense": {"source": "tiledrop://tileset-source/dense", "minzoom": 0, "maxzoom": 1,
             "tiles": {"layer_size": 4}}}}
            """))
        let report = try Publisher().publish(recipe: recipe, recipeDirectory: nil, resolveSource: { _ in ArrayFeatureSource(features) },
                                             outputPath: dir + "/dense.mbtiles")
        let warning = try XCTUnwrap(report.warnings.first { $0.contains("layer_size") }, "\(report.warnings)")
        XCTAssertTrue(warning.contains("worst tiles: 0/0/0 (dense, ") || warning.contains("worst tiles: 1/"), warning)
        XCTAssertTrue(warning.contains("dropped"), warning)
        let count = Int(warning.prefix { $0.isNumber }) ?? 0
        XCTAssertGreaterThan(count, 1000, warning)
    }
}
