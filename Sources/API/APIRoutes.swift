import HTTP

/// Every service's routes on one router: the server's whole surface.
///
/// Each service registers its paths and its error shape from its own folder
/// (`Operator/`, and next `MTS/`, `MapTiler/`, `MapHub/`, `Tiles/`, `CARTO/`).
public enum APIRoutes {
    /// `stats` are the server's counters (connections, latency), reported by `GET /metrics`.
    public static func router(backend: any Backend, stats: ServerStats = ServerStats()) -> Router {
        var router = Router()
        let counters = APICounters()
        OperatorRoutes(backend: backend).register(on: &router)
        PMTilesRoutes(backend: backend).register(on: &router)
        MetricsRoutes(backend: backend, stats: stats, counters: counters).register(on: &router)
        TileRoutes(backend: backend, counters: counters).register(on: &router)
        return router
    }
}
