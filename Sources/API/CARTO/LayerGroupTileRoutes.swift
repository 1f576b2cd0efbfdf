import Foundation
import GeoModel
import HTTP
import Rendering
import Storage
import SystemSupport
import Tiling

/// The tiles of a layer group: `{layergroupid}[/{layers_filter}]/{z}/{x}/{y}[@2x].png` and
/// `….mvt`, the UTFGrid `{layergroupid}/{layer}/{z}/{x}/{y}.grid.json` (the layer's
/// `interactivity` columns), `{layergroupid}/{layer}/attributes/{fid}`, and the static previews
/// `static/center/{layergroupid}/{z}/{lat}/{lng}/{width}/{height}.png` and
/// `static/bbox/{layergroupid}/{west},{south},{east},{north}/{width}/{height}.png`.
///
/// No token is needed: knowing the id is the permission, as with CARTO's anonymous maps.
/// A zoom outside the config's `minzoom`…`maxzoom` is a 404 (seeds/003). Encoded tiles are
/// cached with the identity of every tileset file read in the key, so a republish is never
/// served stale.
struct LayerGroupTileRoutes: Sendable {
    let backend: any Backend
    let registry: LayerGroupRegistry
    let tiles: LayerGroupTiles
    let cache: RasterTileCache
    /// The largest static preview side, in pixels.
    static let maxStaticSide = 2048

    func register(on router: inout Router, prefix p: String) {
        router.get(p + "/{id}/{z}/{x}/{tail}") { r in
            self.tile(id: r.parameter("id"), filter: nil, z: r.parameter("z"), x: r.parameter("x"), tail: r.parameter("tail"))
        }
        router.get(p + "/{id}/{filter}/{z}/{x}/{tail}") { r in
            self.tile(id: r.parameter("id"), filter: r.parameter("filter"), z: r.parameter("z"), x: r.parameter("x"), tail: r.parameter("tail"))
        }
        router.get(p + "/{id}/{layer}/attributes/{fid}") { r in
            self.attributes(id: r.parameter("id"), layer: r.parameter("layer"), fid: r.parameter("fid"))
        }
        router.get(p + "/static/center/{id}/{z}/{lat}/{lng}/{width}/{tail}") { r in
            self.staticCenter(r)
        }
        router.get(p + "/static/bbox/{id}/{bbox}/{width}/{tail}") { r in
            self.staticBBox(r)
        }
    }

    /// What a tile URL asks for.
    private struct Address {
        var tile: TileID
        var pixelRatio: Int
        var isVector: Bool
    }

    private func address(z: String, x: String, tail: String) throws(CartoRequestError) -> Address {
        let isVector: Bool
        var y = Substring(tail)
        var ratio = 1
        if y.hasSuffix(".mvt") {
            isVector = true
            y = y.dropLast(4)
        } else if y.hasSuffix(".png") {
            isVector = false
            y = y.dropLast(4)
            if y.hasSuffix("@2x") { ratio = 2; y = y.dropLast(3) }
        } else {
            throw CartoRequestError(status: 400, "Unsupported format in '\(tail.prefix(32))': layer group tiles are .png, @2x.png, .mvt or {layer}/…/.grid.json", type: "tile")
        }
        guard let zoom = Int(z), (0...30).contains(zoom), let col = Int(x), let row = Int(y),
              col >= 0, row >= 0, col < 1 << zoom, row < 1 << zoom else {
            throw CartoRequestError(status: 400, "Invalid tile coordinates \(z.prefix(8))/\(x.prefix(12))/\(y.prefix(12))", type: "tile")
        }
        return Address(tile: TileID(z: zoom, x: col, y: row), pixelRatio: ratio, isVector: isVector)
    }

    func tile(id: String, filter: String?, z: String, x: String, tail: String) -> Response {
        if tail.hasSuffix(".grid.json"), let filter { return grid(id: id, layer: filter, z: z, x: x, y: String(tail.dropLast(10))) }
        do throws(CartoRequestError) {
            let group = try registry.group(id: id)
            let a = try address(z: z, x: x, tail: tail)
            let layers = try filter.map { f throws(CartoRequestError) in try LayerFilter(parsing: f, layerCount: group.layers.count) } ?? .all(group.layers.count)
            guard group.covers(zoom: a.tile.z) else {
                throw CartoRequestError.notFound("Tile \(a.tile) is outside the map's zoom range \(group.config.minzoom)-\(group.config.maxzoom)")
            }
            let key = "carto|\(group.id)|\(layers.key)|\(a.tile)@\(a.pixelRatio)|\(a.isVector ? "mvt" : "png")|" + identity(group)
            if let hit = cache.get(key) { return Self.answer(hit, vector: a.isVector, cache: "HIT") }
            let bytes: [UInt8]
            if a.isVector {
                let selections = try tiles.select(group, indices: layers.indices, tile: a.tile)
                if selections.isEmpty { return Response(status: 204, headers: HTTPHeaders([("Cache-Control", TileRoutes.cacheControl)])) }
                bytes = LayerGroupTiles.encode(selections)
            } else {
                let rasterizer = try self.rasterizer(group, indices: layers.indices)
                let canvas: Canvas?
                do { canvas = try rasterizer.render(a.tile, pixelRatio: a.pixelRatio) } catch {
                    throw CartoRequestError(status: 500, "the tile cannot be rendered: \(error)", type: "tile")
                }
                bytes = RasterFormat.png.encode(canvas ?? Canvas(width: 256 * a.pixelRatio, height: 256 * a.pixelRatio))
            }
            cache.put(key, bytes)
            return Self.answer(bytes, vector: a.isVector, cache: "MISS")
        } catch {
            return error.response
        }
    }

    private static func answer(_ bytes: [UInt8], vector: Bool, cache: String) -> Response {
        var response = Response(status: 200, contentType: vector ? "application/x-protobuf" : "image/png", bytes: bytes)
        response.headers.add("Cache-Control", TileRoutes.cacheControl)
        response.headers.add("X-Tiledrop-Cache", cache)
        return response
    }

    /// The identity (inode, size, mtime) of every tileset file the group reads.
    private func identity(_ group: LayerGroup) -> String {
        let fs = FileSystem()
        var parts: [String] = []
        for name in Set(group.layers.compactMap(\.tileset)).sorted() {
            let s = try? fs.status(backend.tilesetPath(name))
            parts.append(s.map { "\($0.inode):\($0.size):\($0.modified)" } ?? "-")
        }
        return parts.joined(separator: ",")
    }

    /// A rasterizer over the group's filtered tiles, drawn in config order with the group's
    /// style; a `plain` layer among `indices` gives the background colour.
    func rasterizer(_ group: LayerGroup, indices: [Int]) throws(CartoRequestError) -> TilesetRasterizer {
        var maxzoom = 30
        var bounds: BoundingBox?
        for name in Set(indices.compactMap { group.layers[$0].tileset }) {
            let found = try? tiles.files.with(name) { entry throws(StorageError) in (entry.maxzoom, entry.bounds) }
            guard let (z, b) = found ?? nil else { continue }
            maxzoom = min(maxzoom, z)
            let box = BoundingBox(west: b[0], south: b[1], east: b[2], north: b[3])
            bounds = bounds.map { BoundingBox(west: min($0.west, box.west), south: min($0.south, box.south), east: max($0.east, box.east), north: max($0.north, box.north)) } ?? box
        }
        var style = group.style
        if let plain = indices.last(where: { group.layers[$0].config.kind == .plain }), let color = group.layers[plain].config.color {
            style.background = RenderColor(parsing: color) ?? style.background
        }
        let tiles = self.tiles
        return TilesetRasterizer(name: "layer group \(group.id)", minzoom: group.config.minzoom, maxzoom: max(group.config.minzoom, min(maxzoom, group.config.maxzoom)),
                                 bounds: bounds ?? TilesetRasterizer.world, style: style, layerOrder: indices.map { group.layers[$0].name }) { id throws(RenderingError) in
            do throws(CartoRequestError) {
                let selections = try tiles.select(group, indices: indices, tile: id)
                return selections.isEmpty ? nil : LayerGroupTiles.tile(selections)
            } catch {
                throw .unreadableTileset(path: group.id, reason: error.message)
            }
        }
    }
}
