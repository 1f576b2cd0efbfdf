import GeoModel
import Rendering
import Storage
import Tiling

/// Renders raster tiles and map images from a vector tileset (MBTiles or PMTiles).
///
/// A tile is drawn from its own vector tile (with the tiler's buffer) plus the markers of its
/// eight neighbours that reach across the edges. Beyond the tileset's maxzoom the maxzoom
/// ancestor is drawn magnified (overzoom), as map clients do with vector tiles.
public final class TilesetRasterizer {
    public let path: String
    private let reader: any TileArchiveReader
    public let minzoom: Int
    public let maxzoom: Int
    /// The data's bounds from the metadata (the whole world when absent).
    public let bounds: BoundingBox
    private let renderer: TileRenderer

    public init(path: String, style: StyleSheet = StyleSheet()) throws(RenderingError) {
        self.path = path
        do {
            reader = try TileArchiveFormat.open(path: path)
            let meta = try reader.metadata()
            if let f = meta["format"], f != "pbf" {
                throw RenderingError.unreadableTileset(path: path, reason: "it holds \(f) tiles; only vector (pbf) tilesets can be rendered")
            }
            minzoom = Int(meta["minzoom"] ?? "") ?? 0
            maxzoom = Int(meta["maxzoom"] ?? "") ?? 14
            let b = (meta["bounds"] ?? "").split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            bounds = b.count == 4 ? BoundingBox(west: b[0], south: b[1], east: b[2], north: b[3]) : BoundingBox(west: -180, south: -85.0511, east: 180, north: 85.0511)
            var order: [String] = []
            if let json = meta["json"], let layers = try? JSONParser.parse(json)["vector_layers"]?.arrayValue {
                for l in layers { if case .string(let id)? = l["id"] { order.append(id) } }
            }
            renderer = TileRenderer(style: style, layerOrder: order)
        } catch let e as RenderingError {
            throw e
        } catch {
            throw .unreadableTileset(path: path, reason: "\(error)")
        }
    }

    /// Recently decoded tiles: rendering neighbouring tiles in turn reads each tile up to nine
    /// times (as the centre and as a neighbour); bounded, and only for this instance.
    private var decoded: [TileID: MVTTile?] = [:]

    /// The decoded vector tile at `id`, or nil when the tileset has none there.
    func vectorTile(_ id: TileID) throws(RenderingError) -> MVTTile? {
        if let hit = decoded[id] { return hit }
        let tile = try readTile(id)
        if decoded.count >= 64 { decoded.removeAll(keepingCapacity: true) }
        decoded[id] = tile
        return tile
    }

    private func readTile(_ id: TileID) throws(RenderingError) -> MVTTile? {
        do {
            guard let stored = try reader.tile(id) else { return nil }
            let raw = Gzip.isGzip(stored) ? try Gzip.decompress(stored) : stored
            return try MVTTile(decoding: raw)
        } catch {
            throw .unreadableTileset(path: path, reason: "tile \(id): \(error)")
        }
    }

    /// Renders tile `id` at `pixelRatio` (1: 256 px, 2: 512 px); nil below the minzoom.
    public func render(_ id: TileID, pixelRatio: Int = 1) throws(RenderingError) -> Canvas? {
        let size = 256 * pixelRatio
        let painter = Painter(canvas: Canvas(width: size, height: size, background: renderer.style.background ?? .transparent))
        return try draw(id, with: painter) ? painter.canvas : nil
    }

    /// The UTFGrid of tile `id` (64×64 cells for 256 px), with the properties named in
    /// `fields` (nil: all) as `data`; nil below the minzoom.
    public func grid(_ id: TileID, fields: Set<String>? = nil) throws(RenderingError) -> UTFGridPainter? {
        let grid = UTFGridPainter(size: 64, fields: fields)
        return try draw(id, with: grid) ? grid : nil
    }

    /// Draws tile `id` onto `painter`, whose width is the tile's size in pixels (256 × pixel
    /// ratio; 64 for a UTFGrid), over what is there already, as composites of several tilesets
    /// need; false below the minzoom.
    public func draw(_ id: TileID, with painter: some ShapePainter) throws(RenderingError) -> Bool {
        guard id.z >= minzoom, id.z <= 30 else { return false }
        let size = painter.width
        let pixelRatio = Double(size) / 256
        if id.z <= maxzoom {
            var placed: [PlacedTile] = []
            let n = 1 << id.z
            for dy in -1...1 {
                for dx in -1...1 {
                    let y = id.y + dy
                    guard y >= 0, y < n else { continue }
                    let x = ((id.x + dx) % n + n) % n
                    if n == 1 && (dx != 0 || dy != 0) { continue }
                    if let t = try vectorTile(TileID(z: id.z, x: x, y: y)) { placed.append(PlacedTile(tile: t, column: dx, row: dy)) }
                }
            }
            // The centre tile first: its layers set the drawing order of the rest.
            placed.sort { ($0.column == 0 && $0.row == 0) && !($1.column == 0 && $1.row == 0) }
            renderer.draw(placed, with: painter, tileSize: Double(size), pixelRatio: pixelRatio, zoom: Double(id.z))
        } else {
            // Overzoom: the ancestor at maxzoom, magnified so the requested tile fills the canvas.
            let dz = id.z - maxzoom
            let parent = TileID(z: maxzoom, x: id.x >> dz, y: id.y >> dz)
            if let t = try vectorTile(parent) {
                let scaled = Double(size) * Double(1 << dz)
                let ox = -Double(id.x - (parent.x << dz)) * Double(size), oy = -Double(id.y - (parent.y << dz)) * Double(size)
                renderer.draw([PlacedTile(tile: t)], with: painter, tileSize: scaled, originX: ox, originY: oy, pixelRatio: pixelRatio, zoom: Double(id.z))
            }
        }
        return true
    }

    /// A `width`×`height` picture of the whole data set: the highest zoom at which the bounds
    /// fit with a margin, centred, on `background`.
    public func preview(width: Int = 1200, height: Int = 800, background: RenderColor = .white) throws(RenderingError) -> Canvas {
        guard width > 0, height > 0, width <= 8192, height <= 8192 else {
            throw .invalidRequest("preview size \(width)x\(height) is out of range; use 1 to 8192 pixels per side")
        }
        let nw = WebMercator.project(lon: bounds.west, lat: bounds.north), se = WebMercator.project(lon: bounds.east, lat: bounds.south)
        let spanX = max(1e-9, se.x - nw.x), spanY = max(1e-9, se.y - nw.y)
        var z = minzoom
        while z < min(maxzoom, 22) {
            let world = 256 * Double(1 << (z + 1))
            if spanX * world > Double(width) * 0.9 || spanY * world > Double(height) * 0.9 { break }
            z += 1
        }
        let world = 256 * Double(1 << z)
        let cx = (nw.x + se.x) / 2 * world, cy = (nw.y + se.y) / 2 * world
        let left = cx - Double(width) / 2, top = cy - Double(height) / 2
        let painter = Painter(canvas: Canvas(width: width, height: height, background: background))
        let n = 1 << z
        var placed: [PlacedTile] = []
        let tx0 = max(0, Int((left / 256).rounded(.down)) - 1), tx1 = min(n - 1, Int(((left + Double(width)) / 256).rounded(.down)) + 1)
        let ty0 = max(0, Int((top / 256).rounded(.down)) - 1), ty1 = min(n - 1, Int(((top + Double(height)) / 256).rounded(.down)) + 1)
        if tx0 <= tx1 && ty0 <= ty1 {
            for ty in ty0...ty1 {
                for tx in tx0...tx1 {
                    if let t = try vectorTile(TileID(z: z, x: tx, y: ty)) { placed.append(PlacedTile(tile: t, column: tx, row: ty)) }
                }
            }
        }
        renderer.draw(placed, with: painter, tileSize: 256, originX: -left, originY: -top, zoom: Double(z))
        return painter.canvas
    }
}
