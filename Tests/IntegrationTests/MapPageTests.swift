import Foundation
import GeoModel
import SystemSupport
import XCTest

/// `GET /maps/{map}` (a self-contained HTML page), the map preview endpoints, and the page
/// in a real browser: headless Chromium (Debian `chromium`) loads it over TCP and takes a
/// screenshot, whose pixels must show the data.
final class MapPageTests: XCTestCase {
    private func request(_ harness: DaemonHarness, _ method: String, _ path: String) throws -> (status: Int, headers: String, body: [UInt8]) {
        try harness.http(method, path)
    }

    private func freePort() -> Int { 20000 + Int(getpid() % 20000) }

    func testMapPagePreviewAndBrowser() throws {
        let port = freePort()
        let harness = try DaemonHarness(extraConfig: "listen = 127.0.0.1:\(port)")
        defer { harness.cleanUp() }
        try harness.start()
        let square = ##"{"type": "Feature", "properties": {"fill": "#d62728", "fill-opacity": 1}, "geometry": {"type": "Polygon", "coordinates": [[[2, 46], [8, 46], [8, 50], [2, 50], [2, 46]]]}}"##
        try harness.drop(Data((square + "\n").utf8), map: "walks", name: "alps.geojsonl", group: "Summer")
        XCTAssertTrue(waitUntil(timeout: 60) { FileManager.default.fileExists(atPath: harness.root + "/previews/walks.png") }, harness.log)

        let page = try request(harness, "GET", "/maps/walks")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.headers.contains("text/html"))
        let html = String(decoding: page.body, as: UTF8.self)
        XCTAssertTrue(html.contains("Summer") && html.contains("alps.geojsonl"), "groups and last ingests are listed")
        XCTAssertFalse(html.contains("src=\"http") || html.contains("href=\"http") || html.contains("@import"), "no external scripts, styles or fonts")
        XCTAssertEqual(try request(harness, "GET", "/maps/nope").status, 404)
        XCTAssertEqual(try request(harness, "GET", "/tilesets/walks").status, 200)

        let preview = try request(harness, "GET", "/maps/walks/preview.png")
        XCTAssertEqual(preview.status, 200)
        XCTAssertEqual(Array(preview.body.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let refreshed = try request(harness, "POST", "/maps/walks/preview/refresh")
        XCTAssertEqual(refreshed.status, 200)
        XCTAssertEqual(refreshed.body, preview.body, "the same data gives the same picture")

        // A real browser: the page's script must fetch our tiles and draw the red square.
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed (apt-get install chromium); the page was checked without a browser")
        }
        // Headless, as root in CI: no sandbox, a throw-away profile, /tmp instead of a small
        // /dev/shm; `timeout` ends a browser that hangs. Tiles load over real HTTP, so under load
        // the first picture may come too early: up to three attempts, each a fresh screenshot.
        let profile = NSTemporaryDirectory() + "tiledrop-chromium-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let hasPython = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
        let canCount = try hasPython && DaemonHarness.runTool("/usr/bin/python3", ["-c", "import PIL"]).status == 0
        var red = 0, output = "", png: [UInt8] = []
        for attempt in 1...3 {
            let shot = profile + "-page\(attempt).png"
            defer { try? FileManager.default.removeItem(atPath: shot) }
            let r = try DaemonHarness.runTool("/usr/bin/timeout", ["-k", "10", "120", chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                                                  "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                                                                  "--user-data-dir=\(profile)", "--hide-scrollbars", "--virtual-time-budget=\(5000 * attempt)",
                                                                  "--window-size=900,600", "--screenshot=\(shot)", "http://127.0.0.1:\(port)/maps/walks"])
            output = r.output
            guard let data = FileManager.default.contents(atPath: shot) else { continue }
            png = [UInt8](data)
            if let keep = ProcessInfo.processInfo.environment["TILEDROP_KEEP_SCREENSHOT"] { try? data.write(to: URL(fileURLWithPath: keep)) }
            guard canCount else { break }
            // The square's red (#d62728), counted with Pillow.
            let count = try DaemonHarness.runTool("/usr/bin/python3", ["-c", """
                import sys; from PIL import Image
                im = Image.open(sys.argv[1]).convert("RGB")
                print(sum(1 for p in im.getdata() if abs(p[0] - 214) < 8 and abs(p[1] - 39) < 8 and abs(p[2] - 40) < 8))
                """, shot])
            red = Int(count.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            if red > 5000 { break }
        }
        XCTAssertGreaterThan(png.count, 1000, "no screenshot from chromium: \(output)")
        if canCount { XCTAssertGreaterThan(red, 5000, "the red square shows in the browser (red pixels counted); chromium said: \(output)") }
        XCTAssertEqual(harness.stop(), 0)
    }

    /// A map drawn only by a recipe-named tileset (`recipes/hiking.json` reads map `trails`;
    /// there is no `tiles/trails.mbtiles`): its page and preview find the tileset through the recipes.
    func testMapPageFindsTheTilesetOfItsRecipe() throws {
        let harness = try DaemonHarness()
        defer { harness.cleanUp() }
        try FileManager.default.createDirectory(atPath: harness.root + "/recipes", withIntermediateDirectories: true)
        try #"{"version": 1, "layers": {"paths": {"source": "tiledrop://tileset-source/trails", "minzoom": 0, "maxzoom": 6}}}"#
            .write(toFile: harness.root + "/recipes/hiking.json", atomically: true, encoding: .utf8)
        try harness.start()
        let line = ##"{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[7, 46], [8, 47]]}}"##
        try harness.drop(Data((line + "\n").utf8), map: "trails", name: "ridge.geojsonl")
        XCTAssertTrue(waitUntil(timeout: 60) { FileManager.default.fileExists(atPath: harness.root + "/previews/trails.png") }, harness.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.root + "/tiles/trails.mbtiles"), "only the recipe's tileset is published")

        let page = try request(harness, "GET", "/maps/trails")
        XCTAssertEqual(page.status, 200, String(decoding: page.body, as: UTF8.self))
        let html = String(decoding: page.body, as: UTF8.self)
        XCTAssertTrue(html.contains("tileset hiking") && html.contains("ridge.geojsonl"), "the page draws tileset hiking and lists the ingest")
        XCTAssertEqual(try request(harness, "POST", "/maps/trails/preview/refresh").status, 200)
        XCTAssertEqual(try request(harness, "GET", "/tilesets/trails").status, 404, "there is no tileset named trails")
        XCTAssertEqual(harness.stop(), 0)
    }
}
