import Formats
import Carto
import Foundation
import GeoModel
import Rendering
import Tiling

/// One fuzz target: a decoder fed arbitrary bytes. Errors are the expected outcome for most
/// inputs; only a trap, a hang or runaway memory is a finding.
struct FuzzTarget: Sendable {
    let name: String
    /// File name suffixes of the fixtures that seed this target.
    let seedSuffixes: [String]
    let run: @Sendable ([UInt8]) -> Void

    /// Small limits so one input cannot legitimately take seconds or gigabytes.
    static let limits = ReaderLimits(maxFileBytes: 1 << 20, maxUncompressedBytes: 8 << 20, maxFeatureBytes: 1 << 20, maxWarnings: 50)

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "json", seedSuffixes: [".json", ".geojson"]) { bytes in
            _ = try? JSONParser.parse(bytes)
            readAllFeatures(bytes, suffix: ".geojson")
        },
        FuzzTarget(name: "kml", seedSuffixes: [".kml"]) { readAllFeatures($0, suffix: ".kml") },
        FuzzTarget(name: "gpx", seedSuffixes: [".gpx"]) { readAllFeatures($0, suffix: ".gpx") },
        FuzzTarget(name: "kmz", seedSuffixes: [".kmz"]) { readAllFeatures($0, suffix: ".kmz") },
        FuzzTarget(name: "mvt", seedSuffixes: [".mvt"]) { bytes in
            for limit in [true, false] {
                guard let tile = try? MVTTile(decoding: bytes, limitCoordinates: limit) else { continue }
                _ = JSONWriter.string(MVTGeoJSON.featureCollection(tile, id: TileID(z: 3, x: 2, y: 5)))
            }
        },
        FuzzTarget(name: "recipe", seedSuffixes: ["recipe.json", "recipes/trails.json"]) { bytes in
            guard let json = try? JSONParser.parse(bytes) else { return }
            _ = Recipe.validate(json)
            _ = try? Recipe(json: json)
        },
        FuzzTarget(name: "sql", seedSuffixes: [".sql"]) { bytes in
            guard let q = try? LayerQuery.parse(String(decoding: bytes, as: UTF8.self)) else { return }
            let props = JSONObject([.init(key: "name", value: .string("a")), .init(key: "pop", value: .int(3))])
            _ = q.selects(ExpressionContext(properties: props, id: .int(1), geometryType: "Point", zoom: 2))
            _ = q.project(props, id: .int(1))
        },
        FuzzTarget(name: "cartocss", seedSuffixes: [".mss"]) { bytes in
            guard let style = try? CartoStyle.parse(String(decoding: bytes, as: UTF8.self)) else { return }
            let sheet = CartoStyle.styleSheet([("l", style)])
            let props = JSONObject([.init(key: "name", value: .string("a")), .init(key: "pop", value: .int(3))])
            for kind in [StyleSheet.GeometryKind.point, .line, .polygon] {
                _ = sheet.style(layer: "l", layerIndex: 0, kind: kind, properties: [],
                                context: ExpressionContext(properties: props, id: .int(1), geometryType: kind.expressionName, zoom: 4))
            }
        },
    ]

    /// The readers take a file: the input goes to a per-process file on tmpfs, then every
    /// feature is read and written back as GeoJSON (exercising the writer's number formatting).
    static func readAllFeatures(_ bytes: [UInt8], suffix: String) {
        let path = scratchPath + suffix
        guard let fd = Optional(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)), fd >= 0 else { return }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n <= 0 { break }
            written += n
        }
        close(fd)
        guard let reader = try? FeatureReaders.open(path: path, limits: limits) else { return }
        var count = 0
        while count < 10_000, let feature = try? reader.next() {
            var w = JSONWriter()
            GeoJSONCoding.encode(feature, into: &w)
            count += 1
        }
        _ = reader.warnings.count
    }

    static let scratchPath: String = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(dir)/tiledrop-fuzz-\(getpid())"
    }()
}
