import GeoModel
import HTTP
import Rendering
import Storage
import SystemSupport

/// Pages and pictures of maps: `GET /maps/{map}` and `GET /tilesets/{tileset}` (HTML, see
/// `MapPage`), `GET /maps/{map}/preview.png` (the picture the daemon renders after each
/// publish) and `POST /maps/{map}/preview/refresh` (render it again now).
struct MapPageRoutes: Sendable {
    let backend: any Backend

    func register(on router: inout Router) {
        router.get("/maps/{map}") { request in self.page(map: request.parameter("map")) }
        router.get("/tilesets/{tileset}") { request in self.page(tileset: request.parameter("tileset")) }
        router.get("/maps/{map}/preview.png") { request in self.preview(map: request.parameter("map")) }
        router.post("/maps/{map}/preview/refresh", options: RouteOptions(maxBodyBytes: 0)) { request in self.refresh(map: request.parameter("map")) }
    }

    private func map(_ id: String) -> MapRecord? {
        (try? backend.read { db throws(StorageError) in try db.maps() })?.first { $0.id == id }
    }

    /// A map's page shows every tileset that draws it (`Backend.tilesets(showing:)`: the
    /// tileset named like the map, or the tilesets of recipes reading its source), composited.
    private func page(map id: String) -> Response {
        guard RasterTileRoutes.isTilesetName(id), let record = map(id) else { return .message(404, "Map \(id) does not exist") }
        let ingests = (try? backend.read { db throws(StorageError) in try db.ingests(map: id, limit: 10) }) ?? []
        return page(title: record.title, tilesets: backend.tilesets(showing: id), groups: record.groups,
                    ingests: ingests.map { MapPage.Entry(title: $0.filename, detail: "\($0.state.rawValue), \(HTTPDate.format(milliseconds: $0.updatedAt))") })
    }

    private func page(tileset: String) -> Response {
        guard RasterTileRoutes.isTilesetName(tileset) else { return .message(404, "Tileset \(tileset) does not exist") }
        return page(title: tileset, tilesets: [tileset], groups: [], ingests: [])
    }

    private func page(title: String, tilesets: [String], groups: [String], ingests: [MapPage.Entry]) -> Response {
        let existing = tilesets.prefix(RasterTileRoutes.maxComposite).filter { (try? FileSystem().status(backend.tilesetPath($0)))?.kind == .regular }
        guard !existing.isEmpty else {
            return .message(404, "\(tilesets.count == 1 ? "Tileset \(tilesets[0])" : "Map \(title)") has no tiles yet; drop a file into the map's folder and wait for the publish")
        }
        do {
            var bounds: BoundingBox?
            var minzoom = 30, maxzoom = 0
            for name in existing {
                let r = try TilesetRasterizer(path: backend.tilesetPath(name))
                bounds = bounds.map { BoundingBox(west: min($0.west, r.bounds.west), south: min($0.south, r.bounds.south), east: max($0.east, r.bounds.east), north: max($0.north, r.bounds.north)) } ?? r.bounds
                minzoom = min(minzoom, r.minzoom)
                maxzoom = max(maxzoom, r.maxzoom)
            }
            let html = MapPage.html(title: title, tileset: existing.joined(separator: ","), bounds: bounds!, minzoom: minzoom, maxzoom: maxzoom, groups: groups, ingests: ingests)
            return Response(status: 200, contentType: "text/html; charset=utf-8", bytes: Array(html.utf8))
        } catch {
            return .message(500, "Tileset \(existing.joined(separator: ",")) cannot be read: \(error)")
        }
    }

    private func previewPath(_ map: String) -> String { backend.liveState().root + "/previews/" + map + ".png" }

    private func preview(map id: String) -> Response {
        guard RasterTileRoutes.isTilesetName(id), map(id) != nil else { return .message(404, "Map \(id) does not exist") }
        guard let bytes = try? FileSystem().readFile(previewPath(id), maxBytes: 32 << 20) else {
            return .message(404, "Map \(id) has no preview yet; it is rendered after the map's next publish, or POST /maps/\(id)/preview/refresh")
        }
        return Response(status: 200, contentType: "image/png", bytes: bytes)
    }

    private func refresh(map id: String) -> Response {
        guard RasterTileRoutes.isTilesetName(id), map(id) != nil else { return .message(404, "Map \(id) does not exist") }
        guard let tileset = backend.tilesets(showing: id).first else { return .message(409, "Map \(id) has no tileset yet; nothing to render") }
        let path = backend.tilesetPath(tileset)
        do {
            let png = RasterFormat.png.encode(try TilesetRasterizer(path: path).preview())
            let fs = FileSystem()
            try fs.createDirectories(FileSystem.parent(of: previewPath(id)))
            try fs.writeAtomically(previewPath(id), bytes: png)
            backend.logInfo("map \(id): preview rendered on request")
            return Response(status: 200, contentType: "image/png", bytes: png)
        } catch {
            return .message(500, "cannot render the preview of map \(id): \(error)")
        }
    }
}
