import Foundation
import GeoModel
import Storage
import Tiling
import XCTest

/// CARTO's Maps API against the real binary over TCP: the `carto` Python SDK unchanged
/// (anonymous and named maps), layer filters, zoom limits, persistence across a restart,
/// new data revisions, expiry, and hostile configs that must change nothing.
final class CartoMapsTests: XCTestCase {
    private var harness: DaemonHarness!
    private var port: UInt16 = 0
    private var token = ""
    private var work = ""

    /// Twelve boxes on three continents (feature ids 1…12) and six rivers (ids 100…105).
    static let countries: String = {
        let continents = ["Europe", "Asia", "Africa"]
        let features = (0..<12).map { i -> String in
            let x = -170.0 + Double(i) * 28, y = -40.0 + Double(i % 4) * 20
            return #"{"type":"Feature","id":\#(i + 1),"properties":{"name":"C\#(i + 1)","continent":"\#(continents[i % 3])","pop_est":\#((i + 1) * 1_000_000)},"geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + 20),\#(y)],[\#(x + 20),\#(y + 15)],[\#(x),\#(y + 15)],[\#(x),\#(y)]]]}}"#
        }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
    }()

    static let rivers: String = {
        let features = (0..<6).map { i -> String in
            let y = -60.0 + Double(i) * 22
            return #"{"type":"Feature","id":\#(100 + i),"properties":{"name":"R\#(i)","scalerank":\#(i % 3)},"geometry":{"type":"LineString","coordinates":[[-150,\#(y)],[0,\#(y + 5)],[150,\#(y)]]}}"#
        }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
    }()

    override func setUpWithError() throws {
        port = UInt16(try ServiceClientsTests.freePort())
        harness = try DaemonHarness(extraConfig: "owner = alice\nlisten = 127.0.0.1:\(port)\ncarto_layergroup_ttl = 3")
        work = harness.root + "/client"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try Self.countries.write(toFile: work + "/countries.geojson", atomically: true, encoding: .utf8)
        try harness.start()
        try harness.drop(Data(Self.countries.utf8), map: "countries", name: "countries.geojson")
        try harness.drop(Data(Self.rivers.utf8), map: "rivers", name: "rivers.geojson")
        XCTAssertTrue(waitUntil(timeout: 60) { (try? self.harness.status())?["jobs"]?["success"]?.intValue == 2 }, harness.log)
        let created = try harness.cli(["token", "create", "--scopes", "maps:write", "--config", harness.configPath, "--root", harness.root])
        XCTAssertEqual(created.status, 0, created.stderr)
        token = String(decoding: created.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    override func tearDownWithError() throws {
        harness?.cleanUp()
    }

    private func request(_ method: String, _ target: String, body: String = "") throws -> (status: Int, headers: [String: String], body: String) {
        try TokensAndOperatorTests.tcp(port, method, target, headers: body.isEmpty ? [] : ["Content-Type: application/json"], body: body)
    }

    private static let sdkScript = #"""
    import json, sys, warnings
    warnings.simplefilter("ignore")
    try:
        from carto.auth import APIKeyAuthClient
        from carto.maps import AnonymousMap, NamedMapManager
        import requests
    except ImportError as e:
        print(json.dumps({"skip": "the carto SDK cannot be imported (pip install carto): %s" % e}))
        sys.exit(0)

    base, key = sys.argv[1], sys.argv[2]
    auth = APIKeyAuthClient(base_url=base, api_key=key)
    where = "continent = 'Europe' AND pop_est > 3000000"
    m = AnonymousMap(auth)
    m.instantiate({"version": "1.3.0", "maxzoom": 6, "layers": [
        {"type": "cartodb", "options": {"sql": "SELECT cartodb_id, the_geom_webmercator, name, pop_est FROM countries WHERE " + where,
                                        "cartocss": "#countries { polygon-fill: #ff0000; }", "cartocss_version": "2.3.0"}},
        {"type": "cartodb", "options": {"sql": "select * from rivers",
                                        "cartocss": "#rivers { line-color: #0000ff; line-width: 2; }", "cartocss_version": "2.3.0"}}]})
    out = {"layergroupid": m.layergroupid, "metadata": m.metadata, "tiles": {}}

    def fetch(label, url):
        r = requests.get(url)
        path = "tile-" + label
        open(path, "wb").write(r.content)
        out["tiles"][label] = {"url": url, "status": r.status_code, "type": r.headers.get("Content-Type", ""), "path": path}

    fetch("png", m.get_tile_url(0, 0, 0))
    fetch("png2x", m.get_tile_url(0, 0, 0, extension="png").replace("/0.png", "/0@2x.png"))
    fetch("mvt", m.get_tile_url(0, 0, 0, extension="mvt"))
    for f in ["0", "1", "all", "1,0"]:
        fetch("mvt-" + f, m.get_tile_url(0, 0, 0, layer_id=f, extension="mvt"))
    fetch("png-1", m.get_tile_url(0, 0, 0, layer_id="1"))
    fetch("bad-filter", m.get_tile_url(0, 0, 0, layer_id="2", extension="mvt"))
    fetch("beyond", m.get_tile_url(0, 0, 7, extension="mvt"))

    # The independent filter: the same WHERE in Python over the source file.
    source = json.load(open("countries.geojson"))
    out["expected"] = sorted(f["id"] for f in source["features"]
                             if f["properties"]["continent"] == "Europe" and f["properties"]["pop_est"] > 3000000)

    # Named maps: create, list, get, instantiate with a parameter, update, delete.
    manager = NamedMapManager(auth)
    template = {"version": "0.0.1", "name": "asia_min", "auth": {"method": "token", "valid_tokens": ["tk1"]},
                "placeholders": {"min_pop": {"type": "number", "default": 100}},
                "view": {},
                "layergroup": {"version": "1.0.1", "layers": [{"type": "cartodb", "options": {
                    "sql": "select * from countries where continent = 'Asia' and pop_est > <%= min_pop %>",
                    "cartocss": "#l { polygon-fill: #00ff00; }", "cartocss_version": "2.1.1"}}]}}
    named = manager.create(template=template)
    out["named_id"] = named.template_id
    out["named_all"] = [n.template_id for n in manager.all()]
    got = manager.get("asia_min")
    out["named_placeholders"] = got.placeholders
    got.instantiate({"min_pop": 5000000}, "tk1")
    out["named_layergroupid"] = got.layergroupid
    fetch("named-mvt", auth.base_url + "api/v1/map/" + got.layergroupid + "/0/0/0.mvt")
    # The template's own tile URLs (its defaults), as NamedMap.get_tile_url builds them.
    fetch("named-template-mvt", got.get_tile_url(0, 0, 0, layer_id="0", extension="mvt"))
    fetch("named-template-png", got.get_tile_url(0, 0, 0))
    fetch("named-template-no-token", got.get_tile_url(0, 0, 0, layer_id="0", extension="mvt").split("?")[0])
    got.layergroup["layers"][0]["options"]["cartocss"] = "#l { polygon-fill: #0000ff; }"
    got.save()
    out["named_updated_css"] = manager.get("asia_min").layergroup["layers"][0]["options"]["cartocss"]
    got.delete()
    out["named_after_delete"] = [n.template_id for n in manager.all()]
    print(json.dumps(out))
    """#

    /// The MVT at `path` in the client's folder: layer name → feature ids and property keys.
    private func layers(_ path: String) throws -> [String: (ids: Set<UInt64>, keys: Set<String>)] {
        let tile = try MVTTile(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: work + "/" + path))))
        var result: [String: (ids: Set<UInt64>, keys: Set<String>)] = [:]
        for layer in tile.layers {
            result[layer.name] = (Set(layer.features.compactMap(\.id)), Set(layer.features.flatMap { layer.properties(of: $0).map(\.key) }))
        }
        return result
    }

    func testCartoSDKInstantiatesAnonymousAndNamedMaps() throws {
        try Self.countries.write(toFile: work + "/countries.geojson", atomically: true, encoding: .utf8)
        try Self.sdkScript.write(toFile: work + "/sdk.py", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try XCTUnwrap(ServiceClientsTests.which("python3"), "python3 is not installed"))
        p.arguments = ["sdk.py", "http://127.0.0.1:\(port)/user/alice/", token]
        p.currentDirectoryURL = URL(fileURLWithPath: work)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: e, as: UTF8.self) + harness.log)
        let result = try JSONParser.parse(Array(o))
        if let skip = result["skip"]?.stringValue { throw XCTSkip(skip) }

        let id = try XCTUnwrap(result["layergroupid"]?.stringValue)
        XCTAssertNotNil(id.range(of: #"^[0-9a-f]{32}:[0-9]+$"#, options: .regularExpression), id)
        XCTAssertEqual(result["metadata"]?["layers"]?.arrayValue?.map { $0["id"]?.stringValue }, ["layer0", "layer1"])
        XCTAssertEqual(result["metadata"]?["url"]?["vector"]?["urlTemplate"]?.stringValue,
                       "http://127.0.0.1:\(port)/user/alice/api/v1/map/\(id)/{z}/{x}/{y}.mvt")
        let tiles = try XCTUnwrap(result["tiles"])
        func status(_ label: String) -> Int? { tiles[label]?["status"]?.intValue }
        for label in ["png", "png2x", "png-1"] {
            XCTAssertEqual(status(label), 200, label)
            XCTAssertEqual(tiles[label]?["type"]?.stringValue, "image/png")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: work + "/tile-" + label))
            XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], label)
        }
        let expected = Set(try XCTUnwrap(result["expected"]?.arrayValue).compactMap { $0.intValue.map(UInt64.init) })
        XCTAssertFalse(expected.isEmpty)
        let all = try layers("tile-mvt")
        XCTAssertEqual(Set(all.keys), ["layer0", "layer1"])
        XCTAssertEqual(all["layer0"]?.ids, expected, "exactly the features the WHERE selects")
        XCTAssertEqual(all["layer0"]?.keys, ["cartodb_id", "name", "pop_est"], "properties projected to the selected columns")
        XCTAssertEqual(all["layer1"]?.ids, Set(100...105))
        XCTAssertEqual(Set(try layers("tile-mvt-0").keys), ["layer0"])
        XCTAssertEqual(Set(try layers("tile-mvt-1").keys), ["layer1"])
        XCTAssertEqual(try layers("tile-mvt-all").mapValues(\.ids), all.mapValues(\.ids))
        XCTAssertEqual(try layers("tile-mvt-1,0").mapValues(\.ids), all.mapValues(\.ids), "filters are order-insensitive")
        XCTAssertEqual(status("bad-filter"), 400)
        XCTAssertEqual(try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: work + "/tile-bad-filter"))))["errors"]?.arrayValue?.first?.stringValue,
                       "Invalid layer filtering")
        XCTAssertEqual(status("beyond"), 404, "z 7 is beyond the config's maxzoom 6")

        XCTAssertEqual(result["named_id"]?.stringValue, "asia_min")
        XCTAssertEqual(result["named_all"]?.arrayValue, [.string("asia_min")])
        XCTAssertEqual(result["named_placeholders"]?["min_pop"]?["type"]?.stringValue, "number")
        XCTAssertNotNil(result["named_layergroupid"]?.stringValue)
        XCTAssertEqual(status("named-mvt"), 200)
        XCTAssertEqual(try layers("tile-named-mvt")["layer0"]?.ids, [8, 11], "Asia, pop_est > 5000000")
        XCTAssertEqual(status("named-template-mvt"), 200)
        XCTAssertEqual(try layers("tile-named-template-mvt")["layer0"]?.ids, [2, 5, 8, 11], "Asia with the default min_pop 100")
        XCTAssertEqual(status("named-template-png"), 200)
        XCTAssertEqual(status("named-template-no-token"), 403, "a token template needs its auth_token")
        XCTAssertEqual(result["named_updated_css"]?.stringValue, "#l { polygon-fill: #0000ff; }")
        XCTAssertEqual(result["named_after_delete"]?.arrayValue, [])
    }

    private func instantiate(_ config: String, key: String? = nil) throws -> (status: Int, json: JSONValue) {
        let r = try request("POST", "/api/v1/map" + (key.map { "?api_key=" + $0 } ?? ""), body: config)
        return (r.status, (try? JSONParser.parse(Array(r.body.utf8))) ?? .null)
    }

    private func layerGroupCount() throws -> Int {
        try StateDatabase(path: harness.root + "/state.db", readOnly: true).layerGroupCount()
    }

    func testLayerGroupsPersistFollowRevisionsExpireAndRefuseHostileConfigs() throws {
        let config = ##"{"maxzoom":4,"layers":[{"type":"plain","options":{"color":"#336699"}},{"id":"big","options":{"sql":"select name, pop_est from countries where pop_est >= 10000000","cartocss":"* { line-width: 1; }","attributes":{"id":"cartodb_id","columns":["name","pop_est"]}}}]}"##
        XCTAssertEqual(try instantiate(config).status, 401, "instantiating needs a token")
        let first = try instantiate(config, key: token)
        XCTAssertEqual(first.status, 200, "\(first.json)")
        let id = try XCTUnwrap(first.json["layergroupid"]?.stringValue)
        XCTAssertEqual(try instantiate(config, key: token).json["layergroupid"]?.stringValue, id, "same config, same data: same id")
        XCTAssertEqual(first.json["metadata"]?["layers"]?.arrayValue?.map { $0["type"]?.stringValue }, ["plain", "mapnik"])
        let warned = try instantiate(#"{"layers":[{"options":{"sql":"select * from rivers","cartocss":"* { line-color: blue; line-join: round; }"}}]}"#, key: token)
        XCTAssertEqual(warned.json["metadata"]?["layers"]?.arrayValue?.first?["meta"]?["warnings"]?.arrayValue?.count, 1, "\(warned.json)")

        // Tiles are readable without a token, also under /user/{name}/.
        let mvt = try request("GET", "/user/alice/api/v1/map/\(id)/1/1/0.mvt")
        XCTAssertEqual(mvt.status, 200)
        XCTAssertEqual(mvt.headers["content-type"], "application/x-protobuf")
        XCTAssertTrue(mvt.body.contains("big") && mvt.body.contains("C11") && mvt.body.contains("C12"), "the selected features, in a layer named by the id")
        XCTAssertEqual(try request("GET", "/api/v1/map/\(id)/0/0/0/0.mvt").status, 204, "the plain layer has no vector features")
        let attributes = try JSONParser.parse(Array(try request("GET", "/api/v1/map/\(id)/1/attributes/12").body.utf8))
        XCTAssertEqual(attributes["name"]?.stringValue, "C12")
        XCTAssertEqual(attributes["pop_est"]?.intValue, 12_000_000)
        XCTAssertEqual(try request("GET", "/api/v1/map/\(id)/1/attributes/3").status, 404, "C3 is not selected by the WHERE")
        XCTAssertEqual(try request("GET", "/api/v1/map/\(id)/0/attributes/3").status, 400, "a plain layer has no attributes")
        let center = try request("GET", "/api/v1/map/static/center/\(id)/1/0/0/300/200.png")
        XCTAssertEqual(center.status, 200)
        XCTAssertEqual(center.headers["content-type"], "image/png")
        XCTAssertEqual(try request("GET", "/api/v1/map/static/bbox/\(id)/-180,-60,180,60/300/200.png").status, 200)
        XCTAssertEqual(try request("GET", "/api/v1/map/static/bbox/\(id)/10,0,-10,5/300/200.png").status, 400)
        XCTAssertEqual(try request("GET", "/api/v1/map/static/center/\(id)/9/0/0/300/200.png").status, 404, "beyond maxzoom")
        XCTAssertEqual(try request("GET", "/api/v1/map/static/center/\(id)/1/0/0/30000/200.png").status, 400)
        XCTAssertEqual(try request("GET", "/api/v1/map/nope:1/0/0/0.png").status, 404)

        // JSONP: GET with ?config= and a callback.
        let encoded = try XCTUnwrap(config.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let jsonp = try request("GET", "/api/v1/map?config=\(encoded)&callback=cb&api_key=\(token)")
        XCTAssertEqual(jsonp.status, 200)
        XCTAssertTrue(jsonp.body.contains("cb({\"layergroupid\":\"\(id)\""), jsonp.body)
        XCTAssertEqual(try request("GET", "/api/v1/map?config=\(encoded)&callback=alert(1)&api_key=\(token)").status, 400)

        // Hostile configs: a clear 400 each, and nothing recorded.
        let before = try layerGroupCount()
        let hostile: [(String, String)] = [
            ("select * from countries; DROP TABLE countries", "only one statement"),
            ("select * from (select * from countries) c", "subqueries"),
            ("select st_buffer(the_geom, 1) from countries", "function"),
            ("select * from countries where " + String(repeating: "(", count: 5000) + "1 = 1" + String(repeating: ")", count: 5000), "parentheses"),
            ("select * from nowhere", "relation \\\"nowhere\\\" does not exist"),
        ]
        for (sql, says) in hostile {
            let r = try request("POST", "/api/v1/map?api_key=\(token)", body: #"{"layers":[{"options":{"sql":"\#(sql)","cartocss":"* { line-width: 1; }"}}]}"#)
            XCTAssertEqual(r.status, 400, sql)
            XCTAssertTrue(r.body.hasPrefix("{\"errors\":[") && r.body.contains(says), "\(sql.prefix(60)): \(r.body)")
        }
        let badCSS = try request("POST", "/api/v1/map?api_key=\(token)", body: #"{"layers":[{"options":{"sql":"select * from rivers","cartocss":"* {\n line-color: nocolour; }"}}]}"#)
        XCTAssertEqual(badCSS.status, 400)
        XCTAssertTrue(badCSS.body.contains("Layer 0: CartoCSS") && badCSS.body.contains("line 2"), badCSS.body)
        let many = "[" + Array(repeating: #"{"options":{"sql":"select * from countries","cartocss":"* { line-width: 1; }"}}"#, count: 10_000).joined(separator: ",") + "]"
        XCTAssertEqual(try request("POST", "/api/v1/map?api_key=\(token)", body: #"{"layers":\#(many)}"#).status, 400)
        let css = String(repeating: "#l { line-width: 1; } ", count: 48_000)
        XCTAssertEqual(try request("POST", "/api/v1/map?api_key=\(token)", body: #"{"layers":[{"options":{"sql":"select * from rivers","cartocss":"\#(css)"}}]}"#).status, 400)
        XCTAssertEqual(try request("POST", "/api/v1/map?api_key=\(token)", body: #"{"layers": ["#).status, 400)
        XCTAssertEqual(try request("POST", "/api/v1/map?api_key=\(token)", body: #"{"layers": [{"options": {"sql": ["x"], "cartocss": "* { line-width: 1; }"}}]}"#).status, 400)
        XCTAssertEqual(try layerGroupCount(), before, "refused configs change nothing")

        // A restart keeps the group; a new revision of the data gives a new id.
        XCTAssertEqual(harness.stop(), 0)
        try harness.start()
        XCTAssertEqual(try request("GET", "/api/v1/map/\(id)/1/1/0.mvt").status, 200, "the layer group survives a restart")
        try harness.drop(Data(Self.countries.replacingOccurrences(of: "\"C12\"", with: "\"C12b\"").utf8), map: "countries", name: "c2.geojson", group: nil)
        XCTAssertTrue(waitUntil(timeout: 60) { (try? self.harness.status())?["jobs"]?["success"]?.intValue ?? 0 >= 3 }, harness.log)
        let second = try instantiate(config, key: token)
        let newID = try XCTUnwrap(second.json["layergroupid"]?.stringValue)
        XCTAssertNotEqual(newID, id, "a republished tileset gives a new layergroupid")
        XCTAssertEqual(try request("GET", "/api/v1/map/\(newID)/1/1/0.mvt").status, 200)

        // Expiry: carto_layergroup_ttl = 3 s; after that, unused groups answer 404.
        let lastUse = Date()
        XCTAssertTrue(waitUntil(timeout: 30) { Date().timeIntervalSince(lastUse) > 4.5 })
        XCTAssertEqual(try request("GET", "/api/v1/map/\(newID)/1/0/0.mvt").status, 404, "expired after the TTL")
    }
}

