import GeoModel
import HTTP
import Storage

/// The Mapbox Tiling Service's answer shapes and identifier rules (seeds/001), in one place so
/// they can be held against the document line by line.
enum MTSShapes {
    /// MTS's rule for source ids and tileset names: 1–32 letters, digits, `-`, `_`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 32 && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }

    /// `mapbox://tileset-source/{owner}/{id}`, a source's id in every MTS answer.
    static func sourceID(owner: String, map: String) -> String { "mapbox://tileset-source/\(owner)/\(map)" }

    /// "20.39KB": a size the way `size_nice` shows it (1024-based, two decimals).
    static func sizeNice(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let hundredths = Int64((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)\(units[unit])"
    }

    /// "2015-09-09T23:30:17.936Z": the list endpoints' timestamps (ISO 8601, UTC, milliseconds).
    static func isoDate(milliseconds: Int64) -> String {
        let ms = Int(milliseconds % 1000)
        let pad = ms < 10 ? "00" : ms < 100 ? "0" : ""
        return HTTPDate.utc(seconds: milliseconds / 1000, "%Y-%m-%dT%H:%M:%S") + ".\(pad)\(ms)Z"
    }

    /// One element of "List tileset sources" (and, with `size_nice`, "Retrieve tileset source information").
    static func source(_ s: SourceSummary, owner: String, detailed: Bool) -> JSONValue {
        var o = JSONObject()
        o["files"] = .int(Int64(s.files))
        o["id"] = .string(sourceID(owner: owner, map: s.map))
        o["size"] = .int(s.size)
        if detailed { o["size_nice"] = .string(sizeNice(s.size)) }
        // Not an MTS field (MTS does not count); the name is MapHub's `feature_count`.
        if detailed, let features = s.features { o["feature_count"] = .int(Int64(features)) }
        return .object(o)
    }

    /// One element of "List tilesets".
    static func tileset(_ t: TilesetSummary, owner: String) -> JSONValue {
        var o = JSONObject()
        o["type"] = "vector"
        o["center"] = t.center.map { .array($0.map { JSONValue.double($0) }) } ?? .null
        o["created"] = .string(isoDate(milliseconds: t.record.created))
        o["description"] = .string(t.record.description)
        o["filesize"] = .int(t.filesize)
        o["id"] = .string("\(owner).\(t.record.id)")
        o["modified"] = .string(isoDate(milliseconds: t.record.modified))
        o["name"] = .string(t.record.name)
        o["visibility"] = .string(t.record.isPrivate ? "private" : "public")
        o["status"] = "available"
        return .object(o)
    }

    /// A publish job with `tilesetId` as MTS spells it (`{owner}.{name}`), the `recipe` it ran
    /// with (`pendingRecipe`, the tileset's current one, for a job that has not started) and
    /// `tileset_precisions` once it succeeded.
    static func job(_ j: PublishJobRecord, owner: String, pendingRecipe: JSONValue? = nil) -> JSONValue {
        guard case .object(var o) = j.jsonValue else { return j.jsonValue }
        o["tilesetId"] = .string("\(owner).\(j.tileset)")
        if o["recipe"] == nil, let pendingRecipe { o["recipe"] = pendingRecipe }
        if j.stage == .success, let stats = o["layer_stats"]?.objectValue {
            o["tileset_precisions"] = .object(precisions(layerStats: stats))
        }
        return .object(o)
    }

    /// MTS's processing tiers by a layer's maxzoom (10 m up to z10, 1 m to z13, 30 cm to z16,
    /// 1 cm beyond), each with the km² of the tiles made at that maxzoom (`sum_area`), summed
    /// over the layers in the tier.
    static func precisions(layerStats: JSONObject) -> JSONObject {
        var areas: [(tier: String, km2: Double)] = []
        for member in layerStats {
            guard let maxzoom = member.value["maxzoom"]?.intValue else { continue }
            let tier = maxzoom <= 10 ? "10m" : maxzoom <= 13 ? "1m" : maxzoom <= 16 ? "30cm" : "1cm"
            let area = member.value["zooms"]?[String(maxzoom)]?["sum_area"]?.doubleValue ?? 0
            if let i = areas.firstIndex(where: { $0.tier == tier }) { areas[i].km2 += area } else { areas.append((tier, area)) }
        }
        var o = JSONObject()
        for (tier, km2) in areas { o[tier] = .double(km2) }
        return o
    }

    /// MTS errors are `{"message": …}` (seeds/001 "Mapbox Tiling Service errors").
    static func error(_ status: Int, _ message: String) -> Response {
        JSONResponse.make(status, ["message": .string(message)])
    }

    /// The tileset creation/update body's information fields, checked against MTS's limits.
    static func information(_ body: JSONValue, into record: inout TilesetRecord, requireName: Bool) throws(HTTPError) {
        guard case .object(let o) = body else { throw HTTPError(400, "the body must be a JSON object") }
        switch o["name"] {
        case .string(let name)?:
            guard name.count <= 64 else { throw HTTPError(400, "name is limited to 64 characters") }
            record.name = name
        case nil where !requireName: break
        default: throw HTTPError(400, "name must be a string (the tileset's name, up to 64 characters)")
        }
        switch o["description"] {
        case .string(let d)?:
            guard d.count <= 500 else { throw HTTPError(400, "description is limited to 500 characters") }
            record.description = d
        case nil: break
        default: throw HTTPError(400, "description must be a string")
        }
        switch o["private"] {
        case .bool(let p)?: record.isPrivate = p
        case nil: break
        default: throw HTTPError(400, "private must be true or false")
        }
        if let attribution = o["attribution"] {
            guard case .array(let items) = attribution, items.count <= 3 else {
                throw HTTPError(400, "attribution must be an array of at most three {text, link} objects")
            }
            var textLength = 0
            var linkLength = 0
            for item in items {
                guard case .string(let text)? = item["text"], case .string(let link)? = item["link"] else {
                    throw HTTPError(400, "each attribution object needs the strings text and link")
                }
                textLength += text.count
                linkLength += link.count
            }
            guard textLength <= 80, linkLength <= 1000 else {
                throw HTTPError(400, "attribution allows 80 characters of text and 1000 of links in all")
            }
            record.attribution = attribution
        }
    }
}
