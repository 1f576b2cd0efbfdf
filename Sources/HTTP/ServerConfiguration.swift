import SystemSupport

/// The server's limits and where it listens. Every limit bounds what one client can cost.
public struct ServerConfiguration: Sendable {
    /// Unix socket and/or TCP addresses.
    public var listen: [ListenAddress]
    /// Where request bodies larger than `memoryBodyBytes` are streamed (same filesystem as the
    /// drop area, so a handler can `rename` an upload into place).
    public var temporaryDirectory: String
    /// Largest request body (413 beyond); routes may set a smaller one.
    public var maxBodyBytes: Int64 = 20_000_000_000
    /// Bodies up to this size stay in memory.
    public var memoryBodyBytes = 64 * 1024
    /// Most open client connections; at the cap the longest-idle connection is closed to make
    /// room, or the new one gets a 503. Clamped below the descriptor limit (`RLIMIT_NOFILE`)
    /// minus `reservedDescriptors`, so the daemon always has descriptors for its own files.
    public var maxConnections = 4096
    public var reservedDescriptors = 128
    /// Threads for handlers that block briefly (SQLite and file reads).
    public var workerThreads = 4
    /// Threads for handlers that may take long (`RouteOptions.long`: uploads that wait for their
    /// ingest); more such requests wait for one of these, never for a read worker.
    public var longWorkerThreads = 2
    /// Seconds from the first byte of a request to its complete head (408 after).
    public var headTimeout: Double = 10
    /// Seconds a keep-alive connection may wait for its next request.
    public var idleTimeout: Double = 75
    /// Bodies and responses get `transferGrace` seconds plus their size at this rate (bytes per
    /// second): a deadline for the whole transfer, not one that restarts with every `recv`.
    public var minimumTransferRate: Double = 32 * 1024
    public var transferGrace: Double = 30
    /// `Access-Control-Allow-Origin` sent to requests with an `Origin`; nil turns CORS off.
    public var corsOrigin: String? = "*"
    var headLimits = RequestHead.Limits()

    public init(listen: [ListenAddress], temporaryDirectory: String) {
        self.listen = listen
        self.temporaryDirectory = temporaryDirectory
    }

    /// The largest request head in bytes (431 beyond).
    public var maxHeadBytes: Int {
        get { headLimits.maxHeadBytes }
        set { headLimits.maxHeadBytes = newValue }
    }

    /// The connection cap after clamping to the descriptor limit.
    var effectiveMaxConnections: Int {
        max(1, min(maxConnections, SocketIO.descriptorLimit() - reservedDescriptors))
    }
}
