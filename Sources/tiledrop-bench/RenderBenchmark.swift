import API
import Daemon
import Foundation
import GeoModel
import Rendering
import Storage
import Tiling
#if canImport(Glibc)
import Glibc
#endif

/// `tiledrop-bench render [--fixtures DIR] [--tiles N]`: raster tiles, tiledrop against Mapnik.
///
/// Natural Earth 50m countries + rivers are tiled at z0–6; the first N (1,000) stored tiles in
/// zoom order are rendered and PNG-encoded by tiledrop (`TilesetRasterizer`: read the tile and
/// its neighbours from the MBTiles file, decode, draw, encode) and by Mapnik
/// (python3-mapnik, one GeoJSON datasource per layer loaded once, `png32`) in the same run,
/// each timed over its loop alone. Also prints indexed-PNG and JPEG sizes, and our JPEG q80
/// against Pillow's q80 (size and PSNR over white) on a sample of the tiles. `--ours-only` times
/// tiledrop alone (no other formats, no Mapnik), for profiling. Then (`--serve SECONDS`, 10 by
/// default, 0 to skip) the daemon's peak RSS while `wrk` hammers its raster endpoints.
enum RenderBenchmark {
    static func run(arguments: [String]) -> Int32 {
        var fixtures = ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"] ?? "../shared/fixtures"
        var count = 1000
        var oursOnly = false
        var serveSeconds = 10
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--fixtures" where i + 1 < arguments.count: fixtures = arguments[i + 1]; i += 1
            case "--tiles" where i + 1 < arguments.count: count = max(1, Int(arguments[i + 1]) ?? count); i += 1
            case "--ours-only": oursOnly = true
            case "--serve" where i + 1 < arguments.count: serveSeconds = max(0, Int(arguments[i + 1]) ?? serveSeconds); i += 1
            default:
                FileHandle.standardError.write(Data("usage: tiledrop-bench render [--fixtures DIR] [--tiles N] [--ours-only] [--serve SECONDS]\n".utf8))
                return 64
            }
            i += 1
        }
        let work = NSTemporaryDirectory() + "tiledrop-bench-render-\(getpid())"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let countries = fixtures + "/real/ne_50m_admin_0_countries.json", rivers = fixtures + "/real/ne_50m_rivers_lake_centerlines.json"
        guard FileManager.default.fileExists(atPath: countries), FileManager.default.fileExists(atPath: rivers) else {
            FileHandle.standardError.write(Data("render: Natural Earth fixtures not found under \(fixtures)/real; pass --fixtures DIR\n".utf8))
            return 66
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/IntegrationTests/Mapnik/render_compare.py").path
        let python = "/usr/bin/python3"
        let mbtiles = work + "/ne.mbtiles"
        var ids: [TileID] = []
        do {
            let recipe = try Recipe(json: try JSONParser.parse(#"{"version": 1, "layers": {"countries": {"source": "\#(countries)", "minzoom": 0, "maxzoom": 6}, "rivers": {"source": "\#(rivers)", "minzoom": 0, "maxzoom": 6}}}"#))
            _ = try Publisher(name: "ne").publish(recipe: recipe, recipeDirectory: work, resolveSource: { _ in ArrayFeatureSource([]) }, outputPath: mbtiles)
            try MBTilesReader(path: mbtiles).forEachTile { id, _ in ids.append(id) }
        } catch {
            FileHandle.standardError.write(Data("render: cannot tile the inputs: \(error)\n".utf8))
            return 65
        }
        ids = Array(ids.sorted().prefix(count))

        // tiledrop: render + PNG encode, timed; the other formats are encoded untimed for sizes.
        var pngBytes = 0, indexedBytes = 0, jpegBytes = 0, webpBytes = 0
        var pairs: [JSONValue] = []
        var seconds = 0.0
        do {
            (seconds, pngBytes) = try timeOurs(mbtiles: mbtiles, ids: ids, pixelRatio: 1)
            let rasterizer = try TilesetRasterizer(path: mbtiles)
            for (n, id) in ids.enumerated() where !oursOnly {
                guard let canvas = try rasterizer.render(id) else { continue }
                indexedBytes += RasterFormat.indexedPNG(colours: 256).encode(canvas).count
                let jpeg = RasterFormat.jpeg(quality: 80).encode(canvas)
                jpegBytes += jpeg.count
                webpBytes += RasterFormat.webp.encode(canvas).count
                if n % 10 == 0 {
                    let png = work + "/t\(n).png", jpg = work + "/t\(n).jpg"
                    try Data(RasterFormat.png.encode(canvas)).write(to: URL(fileURLWithPath: png))
                    try Data(jpeg).write(to: URL(fileURLWithPath: jpg))
                    pairs.append([.string(png), .string(jpg)])
                }
            }
        } catch {
            FileHandle.standardError.write(Data("render: \(error)\n".utf8))
            return 70
        }
        let kb = { (b: Int) in String(format: "%.1f KB", Double(b) / 1024 / Double(ids.count)) }
        print("tiledrop-bench render: \(ids.count) tiles of Natural Earth 50m countries + rivers, z0-6, 256 px; \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores")
        print(String(format: "tiledrop  render + png:  %.2f s  (%.2f ms/tile), png %@/tile", seconds, seconds * 1000 / Double(ids.count), kb(pngBytes)))
        print("tiledrop  sizes: png256 \(kb(indexedBytes)) (\(String(format: "%.2f", Double(indexedBytes) / Double(pngBytes)))x png), jpg80 \(kb(jpegBytes)), webp \(kb(webpBytes)) per tile")

        if oursOnly { return 0 }
        guard ChildProcess.run([python, "-c", "import mapnik, PIL"]).exitCode == 0 else {
            print("mapnik: python3-mapnik / python3-pil not installed (apt-get install python3-mapnik python3-pil); no comparison")
            return 0
        }
        let job: JSONValue = [
            "palette": .array(StyleSheet.defaultPalette.map { .string($0.description) }),
            "defaults": ["fill_opacity": .double(StyleSheet.defaultFillOpacity), "polygon_stroke_width": .double(StyleSheet.defaultPolygonStrokeWidth),
                         "line_width": .double(StyleSheet.defaultLineWidth), "marker_outline": .double(FeatureStyle().markerOutlineWidth),
                         "marker_diameters": .object(JSONObject(MarkerSize.allCases.map { JSONObject.Member(key: $0.rawValue, value: .double($0.diameter)) }))],
            "layers": [["file": .string(countries)], ["file": .string(rivers)]],
            "tiles": .array(ids.map { [.int(Int64($0.z)), .int(Int64($0.x)), .int(Int64($0.y))] }),
        ]
        let jobPath = work + "/job.json", pairsPath = work + "/pairs.json"
        do {
            try JSONWriter.string(job).write(toFile: jobPath, atomically: true, encoding: .utf8)
            try JSONWriter.string(.array(pairs)).write(toFile: pairsPath, atomically: true, encoding: .utf8)
        } catch {
            FileHandle.standardError.write(Data("render: cannot write \(jobPath): \(error)\n".utf8))
            return 73
        }
        if let m = pythonJSON([python, script, "--bench", jobPath]), let ms = m["seconds"]?.doubleValue, let mb = m["bytes"]?.intValue {
            print(String(format: "mapnik    render + png32: %.2f s  (%.2f ms/tile), png %@/tile", ms, ms * 1000 / Double(ids.count), kb(mb)))
            print(String(format: "speed: tiledrop is %.2fx Mapnik (Mapnik time / tiledrop time)", ms / seconds))
        }
        // The same picture at @2x (512 px, widths doubled) on the first tiles, both renderers.
        let retina = Array(ids.prefix(300))
        if let ours = try? timeOurs(mbtiles: mbtiles, ids: retina, pixelRatio: 2) {
            var job2 = job
            if case .object(var o) = job2 { o["tiles"] = .array(retina.map { [.int(Int64($0.z)), .int(Int64($0.x)), .int(Int64($0.y))] }); o["scale"] = .int(2); job2 = .object(o) }
            try? JSONWriter.string(job2).write(toFile: jobPath, atomically: true, encoding: .utf8)
            print(String(format: "tiledrop  @2x render + png: %.2f ms/tile (%d tiles)", ours.seconds * 1000 / Double(retina.count), retina.count))
            if let m = pythonJSON([python, script, "--bench", jobPath]), let ms = m["seconds"]?.doubleValue {
                print(String(format: "mapnik    @2x render + png32: %.2f ms/tile; tiledrop is %.2fx Mapnik at @2x", ms * 1000 / Double(retina.count), ms / ours.seconds))
            }
        }
        if let j = pythonJSON([python, script, "--jpeg", pairsPath]), let ob = j["ours_bytes"]?.doubleValue, let pb = j["pillow_bytes"]?.doubleValue {
            print(String(format: "jpeg q80 on %d tiles: tiledrop %.0f bytes, PSNR %.2f dB; Pillow %.0f bytes, PSNR %.2f dB; size ratio %.3f",
                         j["tiles"]?.intValue ?? 0, ob, j["ours_psnr"]?.doubleValue ?? 0, pb, j["pillow_psnr"]?.doubleValue ?? 0, ob / pb))
        }
        if serveSeconds > 0 {
            for line in RasterServeBenchmark.run(mbtiles: mbtiles, tiles: ids, seconds: serveSeconds) { print(line) }
        }
        print("load average at the end: \(ServeBenchmark.loadAverage())")
        return 0
    }

    /// tiledrop's timed loop: a fresh `TilesetRasterizer` (cold decoded-tile cache) renders and
    /// PNG-encodes every tile; returns the seconds and the PNG bytes.
    static func timeOurs(mbtiles: String, ids: [TileID], pixelRatio: Int) throws -> (seconds: Double, bytes: Int) {
        let rasterizer = try TilesetRasterizer(path: mbtiles)
        var bytes = 0
        let start = ChildProcess.now()
        for id in ids {
            guard let canvas = try rasterizer.render(id, pixelRatio: pixelRatio) else { continue }
            bytes += RasterFormat.png.encode(canvas).count
        }
        return (ChildProcess.now() - start, bytes)
    }

    /// Runs a helper and parses the last line of its standard output as JSON.
    static func pythonJSON(_ argv: [String]) -> JSONValue? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { return nil }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0, let last = text.split(separator: "\n").last else {
            FileHandle.standardError.write(Data("render: \(argv.joined(separator: " ")) failed (status \(p.terminationStatus))\n".utf8))
            return nil
        }
        return try? JSONParser.parse(String(last))
    }
}
