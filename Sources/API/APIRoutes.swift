import HTTP

/// Every service's routes on one router: the server's whole surface.
///
/// Each service registers its paths and its error shape from its own folder
/// (`Operator/`, and next `MTS/`, `MapTiler/`, `MapHub/`, `Tiles/`, `CARTO/`).
public enum APIRoutes {
    public static func router(backend: any Backend) -> Router {
        var router = Router()
        OperatorRoutes(backend: backend).register(on: &router)
        // Rendered tiles: at most 32 MB of encoded images, shared by the server's workers.
        RasterTileRoutes(backend: backend, cache: RasterTileCache(maxBytes: 32 << 20)).register(on: &router)
        MapPageRoutes(backend: backend).register(on: &router)
        return router
    }
}
