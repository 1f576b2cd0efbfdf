import HTTP

/// Every service's routes on one router: the server's whole surface.
///
/// Each service registers its paths and its error shape from its own folder
/// (`Operator/`, `Tiles/`, `MTS/`, `MapTiler/`, `MapHub/`, and next `CARTO/`).
public enum APIRoutes {
    /// `stats` are the server's counters (connections, latency), reported by `GET /metrics`;
    /// `services` answers the cloud services' endpoints (MTS, MapTiler ingest, MapHub append);
    /// `rateLimit` (nil: off) refuses a token's requests beyond its budget with 429.
    public static func router(backend: any Backend, stats: ServerStats = ServerStats(),
                              services: (any MTSBackend & MapTilerBackend)? = nil, rateLimit: RateLimit? = nil) -> Router {
        var router = Router()
        let counters = APICounters()
        OperatorRoutes(backend: backend).register(on: &router)
        PMTilesRoutes(backend: backend).register(on: &router)
        MetricsRoutes(backend: backend, stats: stats, counters: counters).register(on: &router)
        TileRoutes(backend: backend, counters: counters).register(on: &router)
        if let services {
            let access = ServiceAccess.check(backend.authenticator)
            MTSRoutes(backend: services, access: access).register(on: &router)
            MapTilerRoutes(backend: services, access: access).register(on: &router)
            MapHubRoutes(backend: services, access: access).register(on: &router)
        }
        // After the vector tile routes (.mvt, .vector.pbf), which match first.
        // Rendered tiles: at most 16 MB of encoded images, shared by the server's workers (the daemon stays under 64 MB while serving them; `tiledrop-bench render`).
        RasterTileRoutes(backend: backend, cache: RasterTileCache(maxBytes: 16 << 20)).register(on: &router)
        MapPageRoutes(backend: backend).register(on: &router)
        if let rateLimit {
            let shapes = router
            let limiter = RateLimiter(limit: rateLimit)
            router.setAdmission(limiter.admission(authenticator: backend.authenticator) { shapes.errorResponse($0, $1, path: $2) })
        }
        return router
    }
}
