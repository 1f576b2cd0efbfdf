import Foundation
import GeoModel
import HTTP
import Storage
import SystemSupport
import Tiling

/// Vector tiles and TileJSON for every tileset in `tiles/`, as the Mapbox APIs serve them:
/// `GET /v4/{owner.name[,owner.name…]}/{z}/{x}/{y}.mvt` (also `.vector.pbf`) and
/// `GET /v4/{owner.name[,…]}.json` (TileJSON 3.0.0). Errors, cache headers and status codes
/// follow the Raster Tiles API seed: "Tileset {name} does not exist" 404, "Tile not found" 404,
/// "Zoom level must be between 0-30." 422, 204 for an empty tile inside a tileset's range,
/// `Cache-Control: max-age=43200,s-maxage=300`. Composites (up to 15 ids) concatenate layers.
struct TileRoutes: Sendable {
    let backend: any Backend
    let counters: APICounters
    let files: TilesetFiles

    static let maxComposite = 15
    static let cacheControl = "max-age=43200,s-maxage=300"
    /// Memory for recently served vector tiles as stored (`TileBytesCache`): 8 MB keeps the
    /// daemon well under 64 MB while serving, and holds tens of thousands of typical tiles.
    static let cacheBytes = 8 << 20

    /// `changes` is shared with the MTS routes, whose tileset updates (`private`) apply at the
    /// next tile request.
    init(backend: any Backend, counters: APICounters, changes: TilesetChanges = TilesetChanges()) {
        self.backend = backend
        self.counters = counters
        files = TilesetFiles(backend: backend, changes: changes, cacheBytes: Self.cacheBytes)
    }

    func register(on router: inout Router) {
        router.get("/v4/{tileset}/{z}/{x}/{y}.mvt") { self.tile($0) }
        router.get("/v4/{tileset}/{z}/{x}/{y}.vector.pbf") { self.tile($0) }
        router.get("/v4/{tileset}.json") { self.tileJSON($0) }
    }

    /// `owner.name` ids → file names; nil (with the 404) when one is not ours.
    private func names(_ request: Request) -> Result<[String], HTTPError> {
        let ids = request.parameter("tileset").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard ids.count <= Self.maxComposite else {
            return .failure(HTTPError(422, "at most \(Self.maxComposite) tilesets may be composited"))
        }
        var names: [String] = []
        for id in ids {
            let prefix = backend.owner + "."
            guard id.hasPrefix(prefix), id.utf8.count <= 256 else { return .failure(HTTPError(404, "Tileset \(id) does not exist")) }
            let name = String(id.dropFirst(prefix.count))
            guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/") else { return .failure(HTTPError(404, "Tileset \(id) does not exist")) }
            names.append(name)
        }
        return .success(names)
    }

    /// 401/403 when a private tileset is asked for without a token that may read it.
    private func refusal(_ request: Request, privateIDs: [String]) -> Response? {
        guard !privateIDs.isEmpty else { return nil }
        if case .failure(let f) = backend.authenticator.require("tilesets:read", of: request) { return .message(f.status, f.message) }
        return nil
    }

    private func tile(_ request: Request) -> Response {
        let names: [String]
        switch self.names(request) {
        case .success(let n): names = n
        case .failure(let e): return .message(e.status, e.message)
        }
        guard let z = Int(request.parameter("z")), (0...30).contains(z) else { return .message(422, "Zoom level must be between 0-30.") }
        guard let x = Int(request.parameter("x")), let y = Int(request.parameter("y")), x >= 0, y >= 0, x < 1 << z, y < 1 << z else {
            counters.tileServed("missing")
            return .message(404, "Tile not found")
        }
        let id = TileID(z: z, x: x, y: y)
        var parts: [[UInt8]] = []
        var privateIDs: [String] = []
        var rasterIDs: [(String, StoredImageFormat)] = []
        var inRange = false
        do {
            for (name, fullID) in zip(names, request.parameter("tileset").split(separator: ",").map(String.init)) {
                let found: Void? = try files.with(name) { entry throws(StorageError) in
                    if entry.isPrivate { privateIDs.append(fullID) }
                    if let format = StoredImageFormat(metadata: entry.metadata["format"]) {
                        rasterIDs.append((fullID, format))
                        return
                    }
                    if z >= entry.minzoom && z <= entry.maxzoom && Self.covers(entry.bounds, id) { inRange = true }
                    if let data = try files.tile(entry, id) { parts.append(data) }
                }
                if found == nil { return .message(404, "Tileset \(fullID) does not exist") }
            }
        } catch {
            return .message(500, "cannot read the tileset: \(error)")
        }
        if let refused = refusal(request, privateIDs: privateIDs) { return refused }
        if let (fullID, format) = rasterIDs.first {
            return .message(404, "Tileset \(fullID) holds \(format.rawValue) images, not vector tiles; request /v4/\(fullID)/{z}/{x}/{y}.\(format.fileExtension)")
        }
        guard !parts.isEmpty else {
            counters.tileServed(inRange ? "empty" : "missing")
            return inRange ? Response(status: 204, headers: HTTPHeaders([("Cache-Control", Self.cacheControl)])) : .message(404, "Tile not found")
        }
        let acceptsGzip = request.headers.hasToken("Accept-Encoding", "gzip")
        var body: [UInt8]
        var gzipped = false
        if parts.count == 1 && Gzip.isGzip(parts[0]) && acceptsGzip {
            body = parts[0]
            gzipped = true
        } else {
            body = []
            for p in parts {
                guard let raw = Gzip.isGzip(p) ? try? Gzip.decompress(p) : p else { return .message(500, "a stored tile is not valid gzip") }
                body += raw
            }
            if acceptsGzip && parts.count > 1 {
                body = Gzip.compress(body)
                gzipped = true
            }
        }
        let etag = "\"" + String(Self.fnv1a(body), radix: 16) + (gzipped ? "-gz" : "") + "\""
        var headers = HTTPHeaders([("Content-Type", "application/vnd.mapbox-vector-tile"), ("Cache-Control", Self.cacheControl), ("ETag", etag)])
        if acceptsGzip { headers.add("Vary", "Accept-Encoding") }
        if let inm = request.headers["If-None-Match"], inm.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
            counters.tileServed("not_modified")
            return Response(status: 304, headers: headers)
        }
        if gzipped { headers.add("Content-Encoding", "gzip") }
        counters.tileServed("ok")
        return Response(status: 200, headers: headers, body: .bytes(body))
    }

    private func tileJSON(_ request: Request) -> Response {
        let names: [String]
        switch self.names(request) {
        case .success(let n): names = n
        case .failure(let e): return .message(e.status, e.message)
        }
        let ids = request.parameter("tileset").split(separator: ",").map(String.init)
        var minzoom = 30, maxzoom = 0
        var bounds = [180.0, 90.0, -180.0, -90.0]
        var layers: [JSONValue] = []
        var attribution: [String] = []
        var privateIDs: [String] = []
        var first: [String: String] = [:]
        var raster: StoredImageFormat?
        do {
            for (name, fullID) in zip(names, ids) {
                let found: Void? = try files.with(name) { entry throws(StorageError) in
                    raster = raster ?? StoredImageFormat(metadata: entry.metadata["format"])
                    if entry.isPrivate { privateIDs.append(fullID) }
                    if first.isEmpty { first = entry.metadata }
                    minzoom = min(minzoom, entry.minzoom)
                    maxzoom = max(maxzoom, entry.maxzoom)
                    bounds = [min(bounds[0], entry.bounds[0]), min(bounds[1], entry.bounds[1]), max(bounds[2], entry.bounds[2]), max(bounds[3], entry.bounds[3])]
                    if let json = entry.metadata["json"], let parsed = try? JSONParser.parse(Array(json.utf8)) {
                        // Each layer names the tileset it comes from, as Mapbox's composites do.
                        layers += (parsed["vector_layers"]?.arrayValue ?? []).map { layer in
                            guard case .object(var l) = layer else { return layer }
                            l["source"] = .string(fullID)
                            l["source_name"] = .string(entry.metadata["name"] ?? name)
                            return .object(l)
                        }
                    }
                    if let a = entry.metadata["attribution"], !a.isEmpty, !attribution.contains(a) { attribution.append(a) }
                }
                if found == nil { return .message(404, "Tileset \(fullID) does not exist") }
            }
        } catch {
            return .message(500, "cannot read the tileset: \(error)")
        }
        if let raster, ids.count > 1 {
            return .message(422, "A composite cannot include a tileset of \(raster.rawValue) images; request the raster tileset's TileJSON alone")
        }
        if let refused = refusal(request, privateIDs: privateIDs) { return refused }
        var query = ""
        if !privateIDs.isEmpty, let token = Authenticator.presentedToken(request) {
            query = "?access_token=" + (token.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))) ?? token)
        }
        var origin = backend.publicURL(for: request)
        // `?secure` asks for https URLs (MTS "Retrieve TileJSON metadata").
        if request.query["secure"] != nil, origin.hasPrefix("http://") { origin = "https://" + origin.dropFirst(7) }
        let base = origin + "/v4/" + ids.joined(separator: ",")
        var o = JSONObject()
        o["tilejson"] = "3.0.0"
        o["id"] = .string(ids.joined(separator: ","))
        o["name"] = .string(ids.count == 1 ? (first["name"] ?? names[0]) : ids.joined(separator: ","))
        o["description"] = .string(ids.count == 1 ? (first["description"] ?? "") : "")
        o["attribution"] = .string(attribution.joined(separator: " "))
        o["scheme"] = "xyz"
        // A raster container's tiles are served as stored, in its own format (no vector_layers).
        o["format"] = .string(raster?.rawValue ?? "pbf")
        o["tiles"] = .array([.string(base + "/{z}/{x}/{y}." + (raster?.fileExtension ?? "mvt") + query)])
        o["minzoom"] = .int(Int64(minzoom))
        o["maxzoom"] = .int(Int64(maxzoom))
        o["bounds"] = .array(bounds.map(JSONValue.double))
        o["center"] = .array([.double((bounds[0] + bounds[2]) / 2), .double((bounds[1] + bounds[3]) / 2), .int(Int64(minzoom))])
        if raster == nil { o["vector_layers"] = .array(layers) }
        o["version"] = .string(ids.count == 1 ? (first["version"] ?? "1.0.0") : "1.0.0")
        o["private"] = .bool(!privateIDs.isEmpty)
        // The seed's TileJSON has both: `mapbox_logo` tells Mapbox GL clients whether the
        // Mapbox wordmark must be shown (not for tiles served here), `webpage` a page showing
        // the tileset (tiledrop's map page, `MapPageRoutes`).
        o["mapbox_logo"] = false
        if ids.count == 1 {
            o["webpage"] = .string(origin + "/tilesets/" + names[0])
            describeFile(names[0], into: &o)
        }
        return JSONResponse.make(200, .object(o), headers: [("Cache-Control", Self.cacheControl)])
    }

    /// The single-tileset TileJSON's `filesize` (bytes of the file), `created` and `modified`
    /// (milliseconds; the recorded tileset's, else the file's modification time), as MTS has them.
    private func describeFile(_ name: String, into o: inout JSONObject) {
        guard let status = try? FileSystem().status(backend.tilesetPath(name)) else { return }
        o["filesize"] = .int(status.size)
        let record = (try? backend.read { db throws(StorageError) in try db.tileset(id: name) }) ?? nil
        let fileTime = status.modified / 1_000_000
        o["created"] = .int(record?.created ?? fileTime)
        o["modified"] = .int(max(record?.modified ?? 0, fileTime))
    }

    /// Whether tile `id` intersects `bounds` (west, south, east, north in degrees).
    static func covers(_ bounds: [Double], _ id: TileID) -> Bool {
        let n = Double(1 << id.z)
        let west = Double(id.x) / n * 360 - 180, east = Double(id.x + 1) / n * 360 - 180
        func lat(_ y: Double) -> Double { atan(sinh(Double.pi * (1 - 2 * y / n))) * 180 / Double.pi }
        let north = lat(Double(id.y)), south = lat(Double(id.y + 1))
        return east >= bounds[0] && west <= bounds[2] && north >= bounds[1] && south <= bounds[3]
    }

    /// FNV-1a 64: a cheap content hash for the ETag.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }
}
