import HTTP

/// Every service's routes on one router: the server's whole surface.
///
/// Each service registers its paths and its error shape from its own folder
/// (`Operator/`, and next `MTS/`, `MapTiler/`, `MapHub/`, `Tiles/`, `CARTO/`).
public enum APIRoutes {
    public static func router(backend: any Backend) -> Router {
        var router = Router()
        OperatorRoutes(backend: backend).register(on: &router)
        return router
    }
}
