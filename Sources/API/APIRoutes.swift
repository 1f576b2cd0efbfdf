import HTTP

/// Every service's routes on one router: the server's whole surface.
///
/// Each service registers its paths and its error shape from its own folder
/// (`Operator/`, `MTS/`, `MapTiler/`, `MapHub/`, and next `Tiles/`, `CARTO/`).
public enum APIRoutes {
    /// `services` answers the cloud services' endpoints (MTS, MapTiler ingest, MapHub append);
    /// `access` decides who may call them.
    public static func router(backend: any Backend, services: (any MTSBackend & MapTilerBackend)? = nil,
                              access: @escaping AccessCheck = { request, _ in ServiceAccess.localAdminOnly(request) }) -> Router {
        var router = Router()
        OperatorRoutes(backend: backend).register(on: &router)
        if let services {
            MTSRoutes(backend: services, access: access).register(on: &router)
            MapTilerRoutes(backend: services, access: access).register(on: &router)
            MapHubRoutes(backend: services, access: access).register(on: &router)
        }
        return router
    }
}
