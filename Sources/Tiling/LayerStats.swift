import GeoModel

/// Accumulates an MTS job's `layer_stats` for one layer (field names as in the MTS job object).
///
/// Sizes are of the uncompressed layer message. Tiles are added in ascending tile order so
/// the checksum (FNV-1a over geometry and attributes, ids excluded, in feature order) is
/// reproducible for the same recipe and sources.
struct LayerStats: Sendable {
    struct Zoom: Sendable {
        var xmin = Int.max, xmax = Int.min, ymin = Int.max, ymax = Int.min
        var tiles = 0
        var capped = 0
        var cappedList: [JSONValue] = []
        var sumArea = 0.0
        var sumSize = 0
        var maxSize = 0
        var histogram = [Int](repeating: 0, count: 20)
    }

    static let cappedListLimit = 100

    let minzoom: Int
    let maxzoom: Int
    var zooms: [Int: Zoom] = [:]
    var pointCount = 0
    var lineCount = 0
    var polygonCount = 0
    var checksum: UInt64 = 0xcbf29ce484222325

    init(minzoom: Int, maxzoom: Int) {
        self.minzoom = minzoom
        self.maxzoom = maxzoom
    }

    /// Records one tile's layer: its encoded size, feature counts, hash, and a cap if one applied.
    mutating func add(tile: TileID, size: Int, points: Int, lines: Int, polygons: Int, hash: UInt64, requiredSize: Int?) {
        var zs = zooms[tile.z] ?? Zoom()
        zs.xmin = min(zs.xmin, tile.x); zs.xmax = max(zs.xmax, tile.x)
        zs.ymin = min(zs.ymin, tile.y); zs.ymax = max(zs.ymax, tile.y)
        zs.tiles += 1
        zs.sumArea += WebMercator.areaKm2(of: tile)
        zs.sumSize += size
        zs.maxSize = max(zs.maxSize, size)
        zs.histogram[min(19, max(0, size - 1) / (25 * 1024))] += 1
        if let required = requiredSize {
            zs.capped += 1
            if zs.cappedList.count < LayerStats.cappedListLimit {
                let kb = (required + 1023) / 1024
                let value: JSONValue = kb > 2500 ? "more than maximum" : .int(Int64(kb))
                zs.cappedList.append(["layer_size": value, "tile": .string(tile.description)])
            }
        }
        zooms[tile.z] = zs
        pointCount += points
        lineCount += lines
        polygonCount += polygons
        for i in 0..<8 { checksum = (checksum ^ (hash >> (8 * UInt64(i)) & 0xFF)) &* 0x100000001b3 }
    }

    var totalTiles: Int { zooms.values.reduce(0) { $0 + $1.tiles } }
    var capped: Int { zooms.values.reduce(0) { $0 + $1.capped } }

    var json: JSONValue {
        var zoomsObject = JSONObject()
        for z in zooms.keys.sorted() {
            let s = zooms[z]!
            zoomsObject[String(z)] = [
                "xmin": .int(Int64(s.xmin)), "xmax": .int(Int64(s.xmax)), "ymin": .int(Int64(s.ymin)), "ymax": .int(Int64(s.ymax)),
                "tiles": .int(Int64(s.tiles)), "capped": .int(Int64(s.capped)), "capped_list": .array(s.cappedList),
                "sum_area": .double(s.sumArea), "sum_size": .int(Int64(s.sumSize)),
                "avg_size": .int(Int64(s.tiles > 0 ? s.sumSize / s.tiles : 0)), "max_size": .int(Int64(s.maxSize)),
                "size_histogram": .array(s.histogram.map { .int(Int64($0)) }),
            ]
        }
        let hex = String(checksum, radix: 16)
        return [
            "total_tiles": .int(Int64(totalTiles)), "point_count": .int(Int64(pointCount)),
            "linestring_count": .int(Int64(lineCount)), "polygon_count": .int(Int64(polygonCount)),
            "capped": .int(Int64(capped)), "minzoom": .int(Int64(minzoom)), "maxzoom": .int(Int64(maxzoom)),
            "checksum": .string(String(repeating: "0", count: 16 - hex.count) + hex), "zooms": .object(zoomsObject),
        ]
    }
}

/// FNV-1a, 64 bit: a fast, stable hash for checksums (not for security).
struct FNV1a {
    var value: UInt64 = 0xcbf29ce484222325
    @inline(__always) mutating func add(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x100000001b3 }
    mutating func add(_ v: UInt32) { for i in 0..<4 { add(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func add(_ v: UInt64) { for i in 0..<8 { add(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func add(_ s: String) {
        var s = s
        s.withUTF8 { for b in $0 { add(b) } }
        add(UInt8(0))
    }

    /// Hashes a value by kind and content (no reflection: this runs for every feature).
    mutating func add(_ v: MVTValue) {
        switch v {
        case .string(let s): add(UInt8(1)); add(s)
        case .float(let f): add(UInt8(2)); add(f.bitPattern)
        case .double(let d): add(UInt8(3)); add(d.bitPattern)
        case .int(let i): add(UInt8(4)); add(UInt64(bitPattern: i))
        case .uint(let u): add(UInt8(5)); add(u)
        case .sint(let i): add(UInt8(6)); add(UInt64(bitPattern: i))
        case .bool(let b): add(UInt8(7)); add(UInt8(b ? 1 : 0))
        }
    }
}
