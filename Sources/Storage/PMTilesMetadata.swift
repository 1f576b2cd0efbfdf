import GeoModel

/// Maps MBTiles 1.3 `metadata` rows to a PMTiles header and JSON metadata (spec §5) and back.
///
/// `bounds`, `center`, `minzoom`, `maxzoom` and `format` live in the PMTiles header; every
/// other row becomes a string key of the JSON object (`name`, `description`, `attribution`,
/// `type`, `version`, `generator`, …) and the keys of the MBTiles `json` row (`vector_layers`,
/// `tilestats`) are merged in at the top level, as `pmtiles convert` does. Reading back gives
/// the same rows, so MBTiles → PMTiles → MBTiles keeps every metadata value.
public struct PMTilesMetadata {
    static let headerKeys: Set<String> = ["bounds", "center", "minzoom", "maxzoom", "format", "json"]

    public var json: JSONValue
    var rows: [String: String]

    /// Builds the JSON object from MBTiles rows.
    public init(rows list: [(name: String, value: String)], tileType: PMTilesHeader.TileType) {
        var rows: [String: String] = [:]
        for (n, v) in list { rows[n] = v }
        self.rows = rows
        var object = JSONObject()
        for (n, v) in list where !PMTilesMetadata.headerKeys.contains(n) { object[n] = .string(v) }
        if let text = rows["json"], case .object(let extra)? = try? JSONParser.parse(text) {
            for m in extra { object[m.key] = m.value }
        }
        if tileType == .mvt && object["vector_layers"] == nil { object["vector_layers"] = .array([]) }
        json = .object(object)
    }

    /// Fills the header's zooms, bounds and center from the rows; zooms the rows do not give
    /// come from the tiles themselves.
    func apply(to header: inout PMTilesHeader, tiles: [PMTilesWriter.Placed]) {
        let zooms = tiles.isEmpty ? 0...0 : (TileID(hilbertID: tiles.first!.tileID)?.z ?? 0)...(TileID(hilbertID: tiles.last!.tileID)?.z ?? 0)
        header.minZoom = UInt8(clamping: rows["minzoom"].flatMap { Int($0) } ?? zooms.lowerBound)
        header.maxZoom = UInt8(clamping: rows["maxzoom"].flatMap { Int($0) } ?? zooms.upperBound)
        if let b = rows["bounds"].map(PMTilesMetadata.numbers), b.count == 4 {
            header.bounds = (b[0], b[1], b[2], b[3])
        }
        if let c = rows["center"].map(PMTilesMetadata.numbers), c.count >= 2 {
            header.center = (c[0], c[1])
            header.centerZoom = UInt8(clamping: c.count > 2 ? Int(c[2]) : Int(header.minZoom))
        } else {
            header.center = ((header.bounds.west + header.bounds.east) / 2, (header.bounds.south + header.bounds.north) / 2)
            header.centerZoom = header.minZoom
        }
    }

    /// The MBTiles metadata rows for an archive with `header` and JSON metadata `json`.
    public static func rows(header: PMTilesHeader, json: JSONValue) -> [String: String] {
        var rows: [String: String] = [:]
        var extra = JSONObject()
        if case .object(let object) = json {
            for m in object {
                if case .string(let s) = m.value { rows[m.key] = s } else { extra[m.key] = m.value }
            }
        }
        if !extra.isEmpty { rows["json"] = JSONWriter.string(.object(extra)) }
        let f = { (d: Double) in JSONWriter.string(.double(d)) }
        rows["format"] = header.tileType.mbtilesFormat
        rows["minzoom"] = String(header.minZoom)
        rows["maxzoom"] = String(header.maxZoom)
        rows["bounds"] = [header.bounds.west, header.bounds.south, header.bounds.east, header.bounds.north].map(f).joined(separator: ",")
        rows["center"] = "\(f(header.center.lon)),\(f(header.center.lat)),\(header.centerZoom)"
        return rows
    }

    static func numbers(_ text: String) -> [Double] {
        text.split(separator: ",").compactMap { Double($0.filter { $0 != " " }) }
    }
}
