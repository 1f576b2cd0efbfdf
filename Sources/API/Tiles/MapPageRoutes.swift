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

    private func page(map id: String) -> Response {
        guard RasterTileRoutes.isTilesetName(id), let record = map(id) else { return .message(404, "Map \(id) does not exist") }
        let ingests = (try? backend.read { db throws(StorageError) in try db.ingests(map: id, limit: 10) }) ?? []
        return page(title: record.title, tileset: id, groups: record.groups,
                    ingests: ingests.map { MapPage.Entry(title: $0.filename, detail: "\($0.state.rawValue), \(HTTPDate.format(milliseconds: $0.updatedAt))") })
    }

    private func page(tileset: String) -> Response {
        guard RasterTileRoutes.isTilesetName(tileset) else { return .message(404, "Tileset \(tileset) does not exist") }
        return page(title: tileset, tileset: tileset, groups: [], ingests: [])
    }

    private func page(title: String, tileset: String, groups: [String], ingests: [MapPage.Entry]) -> Response {
        let path = backend.tilesetPath(tileset)
        guard (try? FileSystem().status(path))?.kind == .regular else {
            return .message(404, "Tileset \(tileset) does not exist yet; drop a file into the map's folder and wait for the publish")
        }
        do {
            let r = try TilesetRasterizer(path: path)
            let html = MapPage.html(title: title, tileset: tileset, bounds: r.bounds, minzoom: r.minzoom, maxzoom: r.maxzoom, groups: groups, ingests: ingests)
            return Response(status: 200, contentType: "text/html; charset=utf-8", bytes: Array(html.utf8))
        } catch {
            return .message(500, "Tileset \(tileset) cannot be read: \(error)")
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
        let path = backend.tilesetPath(id)
        guard (try? FileSystem().status(path))?.kind == .regular else { return .message(409, "Map \(id) has no tileset yet; nothing to render") }
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
