import GeoModel
import HTTP
import Rendering
import Storage
import Tiling

/// Interactivity (UTFGrid, attributes) and static previews of a layer group.
extension LayerGroupTileRoutes {
    /// `{layergroupid}/{layer}/{z}/{x}/{y}.grid.json`: the UTFGrid of one layer, its `data`
    /// limited to the layer's `options.interactivity` columns.
    func grid(id: String, layer: String, z: String, x: String, y: String) -> Response {
        do throws(CartoRequestError) {
            let group = try registry.group(id: id)
            guard let index = Int(layer), group.layers.indices.contains(index) else {
                throw CartoRequestError(status: 400, "Invalid layer filtering", type: "layer")
            }
            guard let zoom = Int(z), let tile = TileID(path: "\(z)/\(x)/\(y)") else {
                throw CartoRequestError(status: 400, "Invalid tile coordinates", type: "tile")
            }
            guard group.covers(zoom: zoom) else {
                throw CartoRequestError.notFound("Tile \(tile) is outside the map's zoom range \(group.config.minzoom)-\(group.config.maxzoom)")
            }
            let fields = Set(group.layers[index].config.interactivity)
            let painter: UTFGridPainter?
            do { painter = try rasterizer(group, indices: [index]).grid(tile, fields: fields) } catch {
                throw CartoRequestError(status: 500, "the grid cannot be drawn: \(error)", type: "tile")
            }
            let grid = (painter ?? UTFGridPainter(size: 64, fields: fields)).json
            return JSONResponse.make(200, grid, headers: [("Cache-Control", TileRoutes.cacheControl)])
        } catch {
            return error.response
        }
    }

    /// The most tiles one attributes lookup reads before giving up.
    static let maxAttributeTiles = 4096

    /// `{layergroupid}/{layer}/attributes/{fid}`: the `options.attributes.columns` of the
    /// feature whose id column equals `fid`, found in the layer's tiles from the tileset's
    /// minzoom up (at most `maxAttributeTiles` tiles are read).
    func attributes(id: String, layer: String, fid: String) -> Response {
        do throws(CartoRequestError) {
            let group = try registry.group(id: id)
            guard let index = Int(layer), group.layers.indices.contains(index) else {
                throw CartoRequestError(status: 400, "Invalid layer filtering", type: "layer")
            }
            let l = group.layers[index]
            guard let idColumn = l.config.attributesID, let query = l.query, let tileset = l.tileset else {
                throw CartoRequestError.invalid("Layer \(index) has no exposed attributes: set options.attributes {id, columns}", layer: index)
            }
            let range = try? tiles.files.with(tileset) { entry throws(StorageError) in (entry.minzoom, entry.maxzoom, entry.bounds) }
            guard let (minzoom, maxzoom, bounds) = range ?? nil else { throw CartoRequestError.notFound("tileset \(tileset) is gone") }
            var budget = Self.maxAttributeTiles
            for z in minzoom...max(minzoom, maxzoom) {
                let (x0, y0) = Self.tile(lon: bounds[0], lat: bounds[3], z: z), (x1, y1) = Self.tile(lon: bounds[2], lat: bounds[1], z: z)
                guard (x1 - x0 + 1) * (y1 - y0 + 1) <= budget else { break }
                budget -= (x1 - x0 + 1) * (y1 - y0 + 1)
                for y in y0...y1 {
                    for x in x0...x1 {
                        let stored = try? tiles.files.with(tileset) { entry throws(StorageError) in try entry.reader.tile(TileID(z: z, x: x, y: y)) }
                        guard let bytes = stored ?? nil, let raw = Gzip.isGzip(bytes) ? try? Gzip.decompress(bytes) : bytes,
                              let tile = try? MVTTile(decoding: raw) else { continue }
                        let selection = LayerGroupTiles.select(query, from: tile, name: l.name, zoom: z)
                        if let found = selection.features.first(where: { Self.matches($0, column: idColumn, fid: fid) }) {
                            return JSONResponse.make(200, .object(Self.attributes(of: found, columns: l.config.attributeColumns)))
                        }
                    }
                }
            }
            throw CartoRequestError.notFound("Feature \(fid.prefix(64)) not found in layer \(index) (by \(idColumn))")
        } catch {
            return error.response
        }
    }

    private static func matches(_ f: LayerGroupTiles.Selected, column: String, fid: String) -> Bool {
        if column == "cartodb_id", let id = f.id { return String(id) == fid }
        guard let value = f.properties.first(where: { $0.key == column })?.value else { return false }
        switch value.json {
        case .string(let s): return s == fid
        case .int(let i): return String(i) == fid
        case .double(let d): return Double(fid) == d
        default: return false
        }
    }

    private static func attributes(of f: LayerGroupTiles.Selected, columns: [String]) -> JSONObject {
        var o = JSONObject()
        for (key, value) in f.properties where columns.isEmpty || columns.contains(key) { o[key] = value.json }
        return o
    }

    private static func tile(lon: Double, lat: Double, z: Int) -> (Int, Int) {
        let p = WebMercator.project(lon: max(-180, min(180, lon)), lat: max(-85.0511, min(85.0511, lat)))
        let n = 1 << z
        return (max(0, min(n - 1, Int(p.x * Double(n)))), max(0, min(n - 1, Int(p.y * Double(n)))))
    }

    /// `static/center/{id}/{z}/{lat}/{lng}/{width}/{height}.png`.
    func staticCenter(_ r: Request) -> Response {
        staticImage(r) { group, rasterizer, width, height in
            guard let z = Int(r.parameter("z")), group.covers(zoom: z) else {
                throw CartoRequestError.notFound("Zoom \(r.parameter("z").prefix(8)) is outside the map's zoom range \(group.config.minzoom)-\(group.config.maxzoom)")
            }
            guard let lat = Double(r.parameter("lat")), let lng = Double(r.parameter("lng")), abs(lat) <= 90, abs(lng) <= 180 else {
                throw CartoRequestError.invalid("Invalid center: latitude and longitude must be numbers within ±90 and ±180")
            }
            let p = WebMercator.project(lon: lng, lat: max(-85.0511, min(85.0511, lat)))
            return try rasterizer.image(zoom: z, centerX: p.x, centerY: p.y, width: width, height: height, background: .transparent)
        }
    }

    /// `static/bbox/{id}/{west},{south},{east},{north}/{width}/{height}.png`.
    func staticBBox(_ r: Request) -> Response {
        staticImage(r) { _, rasterizer, width, height in
            let b = r.parameter("bbox").split(separator: ",").compactMap { Double($0) }
            guard b.count == 4, b[0] < b[2], b[1] < b[3], b.allSatisfy({ abs($0) <= 180 }), abs(b[1]) <= 90, abs(b[3]) <= 90 else {
                throw CartoRequestError.invalid("Invalid bbox: use west,south,east,north in degrees with west < east and south < north")
            }
            return try rasterizer.image(fitting: BoundingBox(west: b[0], south: b[1], east: b[2], north: b[3]), width: width, height: height, background: .transparent)
        }
    }

    /// Checks the group and the size, then draws with `draw` and answers the PNG.
    private func staticImage(_ r: Request, _ draw: (LayerGroup, TilesetRasterizer, Int, Int) throws -> Canvas) -> Response {
        do {
            let group = try registry.group(id: r.parameter("id"))
            let tail = r.parameter("tail")
            guard tail.hasSuffix(".png"), let width = Int(r.parameter("width")), let height = Int(tail.dropLast(4)),
                  (1...Self.maxStaticSide).contains(width), (1...Self.maxStaticSide).contains(height) else {
                throw CartoRequestError.invalid("Invalid static map size: width and height must be 1 to \(Self.maxStaticSide) pixels, as …/{width}/{height}.png")
            }
            let rasterizer = try self.rasterizer(group, indices: Array(group.layers.indices))
            let canvas: Canvas
            do { canvas = try draw(group, rasterizer, width, height) } catch let e as CartoRequestError { throw e } catch {
                throw CartoRequestError(status: 500, "the static map cannot be rendered: \(error)")
            }
            var response = Response(status: 200, contentType: "image/png", bytes: RasterFormat.png.encode(canvas))
            response.headers.add("Cache-Control", TileRoutes.cacheControl)
            return response
        } catch let e as CartoRequestError {
            return e.response
        } catch {
            return CartoRequestError(status: 500, "\(error)").response
        }
    }
}
