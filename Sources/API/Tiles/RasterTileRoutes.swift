import GeoModel
import HTTP
import Rendering
import SystemSupport

/// The Raster Tiles API (seeds/002): `GET /v4/{tileset_id}/{zoom}/{x}/{y}{@2x}.{format}`.
///
/// `tileset_id` may be a comma-separated list of up to 15 tilesets, drawn in order into one
/// image. Formats and errors are the seed's: `Zoom level must be between 0-30.` (422),
/// `Invalid quality value {value} for raster format {jpg/png}` (422), `Tileset {name} does not
/// exist` (404), `Tile not found` (404). Answers carry the seed's `Cache-Control`; encoded
/// tiles are kept in a bounded `RasterTileCache` keyed by the tileset files' identity.
struct RasterTileRoutes: Sendable {
    let backend: any Backend
    let cache: RasterTileCache
    /// The most tilesets one request may composite (seed: "up to 15").
    static let maxComposite = 15

    func register(on router: inout Router) {
        router.setErrorShape(prefix: "/v4/") { status, message in .message(status, message) }
        router.get("/v4/{tilesets}/{z}/{x}/{tail}") { request in
            self.tile(tilesets: request.parameter("tilesets"), z: request.parameter("z"), x: request.parameter("x"), tail: request.parameter("tail"))
        }
    }

    func tile(tilesets list: String, z: String, x: String, tail: String) -> Response {
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard names.count <= RasterTileRoutes.maxComposite else {
            return .message(422, "Too many tilesets: \(names.count) were requested, at most \(RasterTileRoutes.maxComposite) can be composited")
        }
        let address: RasterTileAddress
        do {
            address = try RasterTileAddress(parsing: "\(z)/\(x)/\(tail)")
        } catch {
            switch error {
            case .invalidQuality, .invalidRequest("Zoom level must be between 0-30."): return .message(422, error.description)
            default: return .message(404, "Tile not found")
            }
        }
        // Every tileset must exist; its file identity goes into the cache key.
        var files: [(name: String, path: String, identity: String)] = []
        let fs = FileSystem()
        for name in names {
            let path = backend.tilesetPath(name)
            guard RasterTileRoutes.isTilesetName(name), let status = try? fs.status(path), status.kind == .regular else {
                return .message(404, "Tileset \(name) does not exist")
            }
            files.append((name, path, "\(status.inode):\(status.size):\(status.modified)"))
        }
        let key = files.map(\.identity).joined(separator: ",") + "|\(address.tile)@\(address.pixelRatio)x.\(address.format)"
        var headers = HTTPHeaders()
        headers.add("Cache-Control", "max-age=43200,s-maxage=300")
        if let hit = cache.get(key) { return RasterTileRoutes.image(hit, format: address.format, headers: headers, cache: "HIT") }
        let size = 256 * address.pixelRatio
        let painter = Painter(canvas: Canvas(width: size, height: size))
        var drawn = false
        for file in files {
            do {
                drawn = try TilesetRasterizer(path: file.path).draw(address.tile, pixelRatio: address.pixelRatio, with: painter) || drawn
            } catch {
                return .message(500, "Tileset \(file.name) cannot be rendered: \(error)")
            }
        }
        guard drawn else { return .message(404, "Tile not found") }
        let bytes = address.format.encode(painter.canvas)
        cache.put(key, bytes)
        return RasterTileRoutes.image(bytes, format: address.format, headers: headers, cache: "MISS")
    }

    static func image(_ bytes: [UInt8], format: RasterFormat, headers: HTTPHeaders, cache: String) -> Response {
        var response = Response(status: 200, contentType: format.mimeType, bytes: bytes)
        for (name, value) in headers.fields { response.headers.add(name, value) }
        response.headers.add("X-Tiledrop-Cache", cache)
        return response
    }

    /// Tileset names are file names in `tiles/`: no path separators, no leading dot.
    static func isTilesetName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\0")
    }
}
