import HTTP

/// Every service's routes on one router: the server's whole surface.
///
/// Each service registers its paths and its error shape from its own folder
/// (`Operator/`, `Tiles/`, `MTS/`, `MapTiler/`, `MapHub/`, `CARTO/`).
public enum APIRoutes {
    /// `stats` are the server's counters (connections, latency), reported by `GET /metrics`;
    /// `services` answers the cloud services' endpoints (MTS, MapTiler ingest, MapHub append);
    /// `carto` CARTO's Maps API (anonymous and named maps); `rateLimit` (nil: off) refuses a
    /// token's requests beyond its budget with 429.
    public static func router(backend: any Backend, stats: ServerStats = ServerStats(),
                              services: (any MTSBackend & MapTilerBackend)? = nil, carto: (any CartoBackend)? = nil,
                              rateLimit: RateLimit? = nil) -> Router {
        var router = Router()
        let counters = APICounters()
        let tilesetChanges = TilesetChanges()
        OperatorRoutes(backend: backend).register(on: &router)
        PMTilesRoutes(backend: backend).register(on: &router)
        MetricsRoutes(backend: backend, stats: stats, counters: counters).register(on: &router)
        TileRoutes(backend: backend, counters: counters, changes: tilesetChanges).register(on: &router)
        if let services {
            let access = ServiceAccess.check(backend.authenticator)
            MTSRoutes(backend: services, access: access, tilesetChanges: tilesetChanges).register(on: &router)
            MapTilerRoutes(backend: services, access: access).register(on: &router)
            MapHubRoutes(backend: services, access: access).register(on: &router)
        }
        // Rendered tiles (and CARTO layer group tiles): at most 16 MB of encoded images, shared by
        // the server's workers (the daemon stays under 64 MB while serving them; `tiledrop-bench render`).
        let cache = RasterTileCache(maxBytes: 16 << 20)
        if let carto {
            CartoRoutes(backend: backend, carto: carto, cache: cache).register(on: &router)
        }
        // After the vector tile routes (.mvt, .vector.pbf), which match first.
        RasterTileRoutes(backend: backend, cache: cache).register(on: &router)
        MapPageRoutes(backend: backend).register(on: &router)
        if let rateLimit {
            let shapes = router
            let limiter = RateLimiter(limit: rateLimit)
            router.setAdmission(limiter.admission(authenticator: backend.authenticator) { shapes.errorResponse($0, $1, path: $2) })
        }
        return router
    }
}
