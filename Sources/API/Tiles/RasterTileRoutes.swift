import Dispatch
import GeoModel
import HTTP
import Rendering
import Storage
import SystemSupport

/// The Raster Tiles API (seeds/002): `GET /v4/{tileset_id}/{zoom}/{x}/{y}{@2x}.{format}` and
/// the UTFGrid `GET /v4/{tileset_id}/{zoom}/{x}/{y}.grid.json`.
///
/// `tileset_id` may be a comma-separated list of up to 15 tilesets, drawn in order into one
/// image. Formats and errors are the seed's: `Zoom level must be between 0-30.` (422),
/// `Invalid quality value {value} for raster format {jpg/png}` (422), `Tileset {name} does not
/// exist` (404), `Tile not found` (404). Answers carry the seed's `Cache-Control`; encoded
/// tiles are kept in a bounded `RasterTileCache` keyed by the tileset files' identity.
/// A raster tileset (an installed container of PNG, JPEG or WebP tiles) is not drawn: its
/// tiles are served as stored, with their own `Content-Type`. A tileset may be named as in
/// `tiles/` or with the owner prefix of the vector endpoints (`owner.name`).
struct RasterTileRoutes: Sendable {
    let backend: any Backend
    let cache: RasterTileCache
    let tilesets: TilesetFiles
    /// At most two tiles are drawn at once, whatever the number of workers: a 512 px render
    /// holds several MB (canvas, coverage, decoded neighbours, encoder buffers), and this
    /// bounds the daemon's peak memory while it serves images.
    let renders = DispatchSemaphore(value: 2)

    init(backend: any Backend, cache: RasterTileCache) {
        self.backend = backend
        self.cache = cache
        tilesets = TilesetFiles(backend: backend)
    }
    /// The most tilesets one request may composite (seed: "up to 15").
    static let maxComposite = 15

    func register(on router: inout Router) {
        router.setErrorShape(prefix: "/v4/") { status, message in .message(status, message) }
        router.get("/v4/{tilesets}/{z}/{x}/{tail}") { request in
            let (list, z, x, tail) = (request.parameter("tilesets"), request.parameter("z"), request.parameter("x"), request.parameter("tail"))
            if tail.hasSuffix(".grid.json") {
                let fields = request.query["fields"].map { Set($0.split(separator: ",").map(String.init)) }
                return self.grid(tilesets: list, z: z, x: x, y: String(tail.dropLast(10)), fields: fields)
            }
            return self.tile(tilesets: list, z: z, x: x, tail: tail)
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
        let files: [(name: String, path: String, identity: String)]
        switch existing(names) {
        case .success(let f): files = f
        case .failure(let response): return response.response
        }
        if let stored = storedTile(files, address) { return stored }
        let key = files.map(\.identity).joined(separator: ",") + "|\(address.tile)@\(address.pixelRatio)x.\(address.format)"
        var headers = HTTPHeaders()
        headers.add("Cache-Control", "max-age=43200,s-maxage=300")
        if let hit = cache.get(key) { return RasterTileRoutes.image(hit, format: address.format, headers: headers, cache: "HIT") }
        renders.wait()
        defer { renders.signal() }
        let size = 256 * address.pixelRatio
        let painter = Painter(canvas: Canvas(width: size, height: size))
        var drawn = false
        for file in files {
            do {
                drawn = try TilesetRasterizer(path: file.path).draw(address.tile, with: painter) || drawn
            } catch {
                return .message(500, "Tileset \(file.name) cannot be rendered: \(error)")
            }
        }
        guard drawn else { return .message(404, "Tile not found") }
        let bytes = address.format.encode(painter.canvas)
        cache.put(key, bytes)
        return RasterTileRoutes.image(bytes, format: address.format, headers: headers, cache: "MISS")
    }

    /// `GET /v4/{tilesets}/{z}/{x}/{y}.grid.json[?fields=a,b]`: the UTFGrid of the tile,
    /// drawn from the same geometry as the image (later tilesets over earlier ones).
    func grid(tilesets list: String, z: String, x: String, y: String, fields: Set<String>?) -> Response {
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard names.count <= RasterTileRoutes.maxComposite else {
            return .message(422, "Too many tilesets: \(names.count) were requested, at most \(RasterTileRoutes.maxComposite) can be composited")
        }
        guard let zoom = Int(z), (0...30).contains(zoom) else { return .message(422, "Zoom level must be between 0-30.") }
        guard let tile = TileID(path: "\(z)/\(x)/\(y)") else { return .message(404, "Tile not found") }
        let files: [(name: String, path: String, identity: String)]
        switch existing(names) {
        case .success(let f): files = f
        case .failure(let response): return response.response
        }
        for file in files {
            if let format = try? storedFormat(file.name) {
                return .message(404, "Tileset \(file.name) holds \(format.rawValue) images, which have no UTFGrid")
            }
        }
        let grid = UTFGridPainter(size: 64, fields: fields)
        var drawn = false
        for file in files {
            do {
                drawn = try TilesetRasterizer(path: file.path).draw(tile, with: grid) || drawn
            } catch {
                return .message(500, "Tileset \(file.name) cannot be rendered: \(error)")
            }
        }
        guard drawn else { return .message(404, "Tile not found") }
        var w = JSONWriter()
        w.write(grid.json)
        var response = Response(status: 200, contentType: "application/json", bytes: w.bytes)
        response.headers.add("Cache-Control", "max-age=43200,s-maxage=300")
        return response
    }

    struct Refusal: Error { var response: Response }

    /// The image format of tileset `name` when it is a raster container, nil when it is vector.
    private func storedFormat(_ name: String) throws(StorageError) -> StoredImageFormat? {
        try tilesets.with(name) { entry throws(StorageError) in StoredImageFormat(metadata: entry.metadata["format"]) } ?? nil
    }

    /// The answer for a raster tileset: its stored tile as it is (whatever image extension was
    /// asked for; the `Content-Type` says what it is), or why not. Nil when all are vector.
    private func storedTile(_ files: [(name: String, path: String, identity: String)], _ address: RasterTileAddress) -> Response? {
        do {
            for file in files {
                guard let format = try storedFormat(file.name) else { continue }
                guard files.count == 1 else {
                    return .message(422, "Tileset \(file.name) holds \(format.rawValue) images, which are served as stored and cannot be composited with other tilesets; request it alone")
                }
                guard address.pixelRatio == 1 else {
                    return .message(404, "Tileset \(file.name) holds stored \(format.rawValue) images; there is no @\(address.pixelRatio)x version, request the tile without it")
                }
                guard let bytes = try tilesets.with(file.name, { entry throws(StorageError) in try entry.reader.tile(address.tile) }) ?? nil else {
                    return .message(404, "Tile not found")
                }
                var response = Response(status: 200, contentType: (StoredImageFormat(signatureOf: bytes) ?? format).mimeType, bytes: bytes)
                response.headers.add("Cache-Control", "max-age=43200,s-maxage=300")
                return response
            }
        } catch {
            return .message(500, "Tileset cannot be read: \(error); check the file with `tiledrop tile FILE Z/X/Y`")
        }
        return nil
    }

    /// The tileset files, each with its identity (inode, size, mtime) for the cache key, or the 404 for the first that does not exist.
    private func existing(_ names: [String]) -> Result<[(name: String, path: String, identity: String)], Refusal> {
        var files: [(name: String, path: String, identity: String)] = []
        let fs = FileSystem()
        for id in names {
            // `owner.name` (the vector endpoints' and TileJSON's form) or the plain file name.
            let prefix = backend.owner + "."
            let candidates = id.hasPrefix(prefix) ? [id, String(id.dropFirst(prefix.count))] : [id]
            guard let (name, path, status) = candidates.lazy.compactMap({ name -> (String, String, FileStatus)? in
                let path = backend.tilesetPath(name)
                guard RasterTileRoutes.isTilesetName(name), let status = try? fs.status(path), status.kind == .regular else { return nil }
                return (name, path, status)
            }).first else {
                return .failure(Refusal(response: .message(404, "Tileset \(id) does not exist")))
            }
            files.append((name, path, "\(status.inode):\(status.size):\(status.modified)"))
        }
        return .success(files)
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
