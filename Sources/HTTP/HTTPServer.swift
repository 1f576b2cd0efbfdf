import Foundation
import SystemSupport

/// An HTTP/1.1 server: one epoll event-loop thread driving a small state machine per
/// connection (`Connection`), a `WorkerPool` for handlers that block briefly and a second one
/// for handlers that may take long (`RouteOptions.long`).
///
/// No client can hold the loop: sockets are non-blocking, every phase of a request has a
/// deadline, reads per turn are bounded, and handlers run on the workers. At the connection
/// cap the longest-idle connection is closed to make room; when `accept` runs out of
/// descriptors the listeners pause briefly instead of spinning. See README "HTTP server".
public final class HTTPServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    public let router: Router
    public let stats: ServerStats
    private let log: @Sendable (String) -> Void
    private let epoll: Epoll
    private let wakeup: EventNotifier
    private var listeners: [ListeningSocket] = []
    private let pool: WorkerPool
    private let longPool: WorkerPool
    private let clock = MonotonicClock()
    private let maxConnections: Int

    // Owned by the loop thread.
    private var connections: [UInt64: Connection] = [:]
    private var nextID: UInt64 = 1
    private var ready: [UInt64] = []
    private var acceptPausedUntil: Double?
    private var date = DateCache()
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    // Shared with the workers.
    private let lock = NSLock()
    private var completions: [(UInt64, Response)] = []
    /// A wake-up is on its way to the loop (the eventfd was written and the loop has not yet
    /// taken the completions): later completions ride on it instead of writing the eventfd again.
    private var wakeQueued = false
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)
    private var thread: Thread?

    private static let wakeToken: UInt64 = 0
    private static let listenerBase: UInt64 = 1 << 62
    private static let readBudget = 1 << 20

    /// Binds every address in `configuration.listen`; `start()` begins serving.
    public init(configuration: ServerConfiguration, router: Router, stats: ServerStats = ServerStats(),
                log: @escaping @Sendable (String) -> Void) throws(SystemError) {
        self.configuration = configuration
        self.stats = stats
        self.router = router
        self.log = log
        epoll = try Epoll(capacity: 512)
        wakeup = try EventNotifier()
        maxConnections = configuration.effectiveMaxConnections
        BodySink.removeLeftovers(in: configuration.temporaryDirectory)
        for address in configuration.listen {
            listeners.append(try ListeningSocket.listen(address))
        }
        pool = WorkerPool(threads: configuration.workerThreads, name: "http-read")
        longPool = WorkerPool(threads: configuration.longWorkerThreads, name: "http-long")
        try epoll.add(wakeup.fileDescriptor, events: .readable, token: Self.wakeToken)
        try resumeAccepting()
    }

    deinit { scratch.deallocate() }

    /// The TCP ports bound, in `listen` order (port 0 in the configuration picks a free one).
    public var boundPorts: [UInt16] { listeners.compactMap(\.boundPort) }

    /// Starts the event-loop thread.
    public func start() {
        let t = Thread { [self] in
            ThreadName.set("http-loop")
            loop()
            stopped.signal()
        }
        t.name = "http-loop"
        thread = t
        t.start()
    }

    /// Stops accepting, closes every connection, waits for running handlers, and returns.
    public func stop() {
        lock.withLock { stopping = true }
        wakeup.signal()
        if thread != nil { stopped.wait() }
        pool.stop()
        longPool.stop()
        for l in listeners { l.close() }
    }

    // MARK: - The loop

    private func loop() {
        var nextSweep = clock.now() + 0.25
        while !(lock.withLock { stopping }) {
            let now = clock.now()
            let timeout = ready.isEmpty ? max(0, nextSweep - now) : 0
            let events: [(token: UInt64, events: EpollEvents)]
            do { events = try epoll.wait(timeout: timeout) } catch {
                log("http: epoll_wait failed: \(error); retrying in 100 ms")
                usleep(100_000)
                continue
            }
            for (token, flags) in events {
                if token == Self.wakeToken {
                    wakeup.drain()
                } else if token >= Self.listenerBase {
                    acceptAll(listeners[Int(token - Self.listenerBase)])
                } else if let c = connections[token] {
                    if !flags.intersection([.readable, .peerClosed, .hangup, .error]).isEmpty { c.readable = true }
                    if !flags.intersection([.peerClosed, .hangup, .error]).isEmpty { c.peerClosing = true }
                    if !flags.intersection([.writable, .hangup, .error]).isEmpty { c.writable = true }
                    drive(c)
                }
            }
            for (id, response) in lock.withLock({ () -> [(UInt64, Response)] in
                defer { completions = []; wakeQueued = false }
                return completions
            }) {
                if let c = connections[id] { deliver(response, to: c) }
            }
            let again = ready
            ready = []
            for id in again { if let c = connections[id] { drive(c) } }
            let after = clock.now()
            if after >= nextSweep {
                nextSweep = after + 0.25
                sweep(now: after)
            }
        }
        for c in Array(connections.values) { close(c) }
    }

    private func acceptAll(_ listener: ListeningSocket) {
        for _ in 0..<64 {
            if connections.count >= maxConnections && !evictIdle() {
                // Full of busy connections: take the new one off the backlog and say so.
                guard case .connection(let fd) = (try? listener.accept()) ?? .none else { return }
                stats.connectionRefused()
                let busy = router.errorResponse(503, "too many open connections; try again shortly", path: "/")
                let bytes = busy.head(keepAlive: false, date: date.now()) + (busy.body.bytesValue ?? [])
                _ = bytes.withUnsafeBytes { try? SocketIO.send(fd, $0) }
                _ = Glibc.close(fd)
                continue
            }
            let result: AcceptResult
            do { result = try listener.accept() } catch {
                log("http: accept on \(listener.address) failed: \(error)")
                return
            }
            switch result {
            case .none:
                return
            case .exhausted(let e):
                // Out of descriptors: stop watching the listeners for a moment (the backlog
                // would stay readable and spin the loop) and close the longest-idle client.
                _ = evictIdle()
                pauseAccepting(reason: String(cString: strerror(e)))
                return
            case .connection(let fd):
                let peer: Peer
                if case .unix = listener.address, let cred = SocketIO.peerCredentials(fd) {
                    peer = Peer(uid: cred.uid, gid: cred.gid, pid: cred.pid, address: "unix")
                } else {
                    SocketIO.setNoDelay(fd)
                    peer = Peer(address: SocketIO.peerAddress(fd))
                }
                let c = Connection(id: nextID, fd: fd, peer: peer, now: clock.now(), idleTimeout: configuration.idleTimeout)
                nextID += 1
                do {
                    try epoll.add(fd, events: [.readable, .writable, .peerClosed, .edgeTriggered], token: c.id)
                } catch {
                    _ = Glibc.close(fd)
                    continue
                }
                connections[c.id] = c
                stats.connectionOpened()
                drive(c)
            }
        }
    }

    /// Closes the connection that has waited longest without a complete request; false when
    /// every connection is busy (handling or writing or reading a body).
    private func evictIdle() -> Bool {
        var victim: Connection?
        for c in connections.values where c.phase == .idle || c.phase == .head {
            if victim == nil || c.phaseStart < victim!.phaseStart { victim = c }
        }
        guard let victim else { return false }
        close(victim)
        return true
    }

    private func pauseAccepting(reason: String) {
        if acceptPausedUntil == nil { log("http: cannot accept connections (\(reason)); pausing accept for 250 ms") }
        for l in listeners { epoll.remove(l.fileDescriptor) }
        acceptPausedUntil = clock.now() + 0.25
    }

    private func resumeAccepting() throws(SystemError) {
        for (i, l) in listeners.enumerated() {
            try epoll.add(l.fileDescriptor, events: .readable, token: Self.listenerBase + UInt64(i))
        }
        acceptPausedUntil = nil
    }

    private func sweep(now: Double) {
        if let until = acceptPausedUntil, now >= until { try? resumeAccepting() }
        for c in Array(connections.values) where now > c.deadline {
            switch c.phase {
            case .idle, .writing:
                close(c)
            case .head, .body:
                fail(c, HTTPError(408, "the request was not received in time; send it faster or in smaller parts", closesConnection: true))
            case .handling:
                break
            }
        }
    }

    private func close(_ c: Connection) {
        epoll.remove(c.fd)
        _ = Glibc.close(c.fd)
        c.sink?.discard()
        c.file = nil
        if connections.removeValue(forKey: c.id) != nil { stats.connectionClosed() }
    }

    // MARK: - One connection

    /// Advances `c` as far as its socket allows.
    private func drive(_ c: Connection) {
        while connections[c.id] != nil {
            switch c.phase {
            case .handling:
                return
            case .writing:
                do {
                    guard try c.flush() else { return }
                } catch {
                    close(c)
                    return
                }
                if !c.keepAlive {
                    close(c)
                    return
                }
                c.reset(now: clock.now(), idleTimeout: configuration.idleTimeout)
            case .idle, .head, .body:
                if c.hasBufferedInput {
                    let before = (c.phase, c.inputStart)
                    process(c)
                    if c.phase != before.0 || c.inputStart != before.1 { continue }
                }
                if c.inputEnded {
                    endOfInput(c)
                    return
                }
                guard c.readable else { return }
                let had = c.input.count - c.inputStart
                guard c.fill(budget: Self.readBudget, scratch: scratch) else {
                    close(c)
                    return
                }
                if c.readable && !c.inputEnded && c.input.count - c.inputStart > had {
                    // Budget used up with more to read: continue on the next turn (fairness).
                    process(c)
                    if c.phase == .idle || c.phase == .head || c.phase == .body { ready.append(c.id) }
                    if c.phase != .writing { return }
                } else if c.input.count - c.inputStart == had && !c.inputEnded {
                    return
                }
            }
        }
    }

    /// The client closed its sending side.
    private func endOfInput(_ c: Connection) {
        switch c.phase {
        case .idle:
            close(c)
        case .head:
            close(c)
        case .body:
            fail(c, HTTPError(400, "the connection ended before the request body was complete", closesConnection: true))
        case .handling, .writing:
            break
        }
    }

    /// Parses what is buffered: a head, then body bytes.
    private func process(_ c: Connection) {
        let now = clock.now()
        if c.phase == .idle {
            c.phase = .head
            c.phaseStart = now
            c.deadline = now + configuration.headTimeout
        }
        if c.phase == .head {
            let parsed: (RequestHead, Int)?
            do { parsed = try RequestHead.parse(c.bufferedInput, scanned: &c.scanned, limits: configuration.headLimits) } catch {
                fail(c, error)
                return
            }
            guard let (head, used) = parsed else { return }
            c.inputStart += used
            c.scanned = 0
            c.requestStart = now
            begin(c, head: head, now: now)
            return
        }
        guard c.phase == .body, let sink = c.sink else { return }
        do {
            if var decoder = c.chunked {
                let used = try decoder.feed(c.bufferedInput) { bytes throws(HTTPError) in try sink.append(bytes) }
                c.chunked = decoder
                c.inputStart += used
                c.deadline = c.bodyStart + configuration.transferGrace + Double(sink.size) / configuration.minimumTransferRate
                if decoder.isDone { bodyComplete(c) }
            } else {
                let n = Int(min(Int64(c.input.count - c.inputStart), c.remaining))
                try sink.append(c.input[c.inputStart..<(c.inputStart + n)])
                c.inputStart += n
                c.remaining -= Int64(n)
                if c.remaining == 0 { bodyComplete(c) }
            }
        } catch {
            fail(c, error)
        }
    }

    /// A head arrived: route it, check the body's size and expectations, then read the body or
    /// run the handler.
    private func begin(_ c: Connection, head: RequestHead, now: Double) {
        c.head = head
        c.keepAlive = head.isHTTP10 ? head.headers.hasToken("Connection", "keep-alive") : !head.headers.hasToken("Connection", "close")
        if head.framing != .none { c.keepAlive = c.keepAlive && true }
        var request: Request
        do {
            request = try Request(method: head.method, target: head.target, headers: head.headers, peer: c.peer, isHTTP10: head.isHTTP10)
        } catch {
            fail(c, HTTPError(error.status, error.message, closesConnection: head.framing != .none))
            return
        }
        c.request = request
        if head.method == "OPTIONS" {
            answerOptions(c, request)
            return
        }
        let route: Router.Route
        switch router.match(method: head.method, segments: request.segments) {
        case .found(let r, let parameters):
            route = r
            request.parameters = parameters
            c.request = request
        case .methodNotAllowed(let allowed):
            var response = router.errorResponse(405, "\(head.method) is not allowed on \(request.path); use \(allowed.joined(separator: ", "))", path: request.path)
            response.headers.set("Allow", allowed.joined(separator: ", "))
            c.keepAlive = c.keepAlive && head.framing == .none
            deliver(response, to: c)
            return
        case .notFound:
            fail(c, HTTPError(404, "no such endpoint: \(head.method) \(request.path)", closesConnection: head.framing != .none))
            return
        }
        c.route = route
        if let admission = router.admission {
            switch admission(request) {
            case .refuse(let response):
                // The body (if any) is not read: the connection ends after the answer.
                c.keepAlive = c.keepAlive && head.framing == .none
                deliver(response, to: c)
                return
            case .admit(let headers):
                c.admittedHeaders = headers
            }
        }
        let limit = route.options.maxBodyBytes ?? configuration.maxBodyBytes
        if case .length(let n) = head.framing, n > limit {
            fail(c, HTTPError(413, "request body of \(n) bytes is larger than the limit of \(limit) bytes", closesConnection: true))
            return
        }
        if let expect = head.headers["Expect"] {
            guard expect.lowercased() == "100-continue" else {
                fail(c, HTTPError(417, "only 'Expect: 100-continue' is supported", closesConnection: true))
                return
            }
            if head.framing != .none && !c.hasBufferedInput {
                let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                let sent = interim.withUnsafeBytes { try? SocketIO.send(c.fd, $0) }
                guard sent == .bytes(interim.count) else {
                    close(c)
                    return
                }
            }
        }
        switch head.framing {
        case .none:
            dispatch(c, request: request, route: route)
        case .length(let n):
            c.remaining = n
            startBody(c, limit: limit, now: now, expected: n)
        case .chunked:
            c.chunked = ChunkedDecoder()
            startBody(c, limit: limit, now: now, expected: 0)
        }
    }

    private func startBody(_ c: Connection, limit: Int64, now: Double, expected: Int64) {
        c.sink = BodySink(memoryLimit: configuration.memoryBodyBytes, maxBytes: limit, directory: configuration.temporaryDirectory)
        c.phase = .body
        c.phaseStart = now
        c.bodyStart = now
        c.deadline = now + configuration.transferGrace + Double(expected) / configuration.minimumTransferRate
    }

    private func bodyComplete(_ c: Connection) {
        guard var request = c.request, let route = c.route, let sink = c.sink else { return }
        request.body = sink.finish()
        c.sink = nil
        dispatch(c, request: request, route: route)
    }

    /// Runs the handler (on a worker unless the route is inline) and removes an uploaded
    /// body file once it returns.
    private func dispatch(_ c: Connection, request: Request, route: Router.Route) {
        c.phase = .handling
        c.phaseStart = clock.now()
        c.deadline = .infinity
        let id = c.id
        let handler = route.handler
        let cleanup: @Sendable () -> Void = {
            if case .file(let path, _) = request.body { unlink(path) }
        }
        if route.options.inline {
            let response = handler(request)
            cleanup()
            deliver(response, to: c)
            return
        }
        (route.options.long ? longPool : pool).submit { [self] in
            let response = handler(request)
            cleanup()
            let wake = lock.withLock { () -> Bool in
                completions.append((id, response))
                defer { wakeQueued = true }
                return !wakeQueued
            }
            if wake { wakeup.signal() }
        }
    }

    /// `OPTIONS`: a CORS preflight (RFC 9110 §9.3.7; Fetch standard) or the `Allow` list.
    private func answerOptions(_ c: Connection, _ request: Request) {
        var allowed: [String] = []
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if case .found = router.match(method: method, segments: request.segments) { allowed.append(method) }
        }
        guard !allowed.isEmpty || request.path == "/" else {
            fail(c, HTTPError(404, "no such endpoint: OPTIONS \(request.path)", closesConnection: c.head?.framing != .none))
            return
        }
        if allowed.contains("GET") { allowed.append("HEAD") }
        allowed.append("OPTIONS")
        var response = Response(status: 204)
        response.headers.add("Allow", allowed.joined(separator: ", "))
        if let origin = configuration.corsOrigin, request.headers["Origin"] != nil, request.headers["Access-Control-Request-Method"] != nil {
            response.headers.add("Access-Control-Allow-Origin", origin)
            response.headers.add("Access-Control-Allow-Methods", allowed.joined(separator: ", "))
            response.headers.add("Access-Control-Allow-Headers", request.headers["Access-Control-Request-Headers"] ?? "Authorization, Content-Type")
            response.headers.add("Access-Control-Max-Age", "86400")
        }
        c.keepAlive = c.keepAlive && c.head?.framing == BodyFraming.none
        deliver(response, to: c)
    }

    /// Answers `c` with `error` in the error shape of the request's path.
    private func fail(_ c: Connection, _ error: HTTPError) {
        c.sink?.discard()
        c.sink = nil
        if error.closesConnection || c.phase == .body { c.keepAlive = false }
        if c.head == nil { c.requestStart = clock.now() }
        deliver(router.errorResponse(error.status, error.message, path: c.request?.path ?? ""), to: c)
    }

    /// Queues `response` on `c` and starts writing it.
    private func deliver(_ response: Response, to c: Connection) {
        var response = response
        let now = clock.now()
        if let origin = configuration.corsOrigin, c.head?.headers["Origin"] != nil, !response.headers.contains("Access-Control-Allow-Origin") {
            response.headers.add("Access-Control-Allow-Origin", origin)
        }
        response.headers.addMissing(c.admittedHeaders)
        stats.requestFinished(status: response.status, seconds: now - c.requestStart)
        if lock.withLock({ stopping }) { c.keepAlive = false }
        c.output = response.head(keepAlive: c.keepAlive, date: date.now())
        c.outputOffset = 0
        if c.head?.method != "HEAD" {
            switch response.body {
            case .bytes(let b): c.output += b
            case .file(let f):
                c.file = f
                c.fileOffset = f.offset
                c.fileRemaining = f.length
            }
        }
        c.phase = .writing
        c.phaseStart = now
        c.deadline = now + configuration.transferGrace + Double(response.body.count) / configuration.minimumTransferRate
        drive(c)
    }
}

extension ResponseBody {
    var bytesValue: [UInt8]? {
        if case .bytes(let b) = self { return b }
        return nil
    }
}
