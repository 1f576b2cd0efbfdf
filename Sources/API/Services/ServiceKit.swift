#if canImport(Glibc)
import Glibc
#endif
import GeoModel
import HTTP
import SystemSupport

/// Why a request is refused before it reaches a service: 401 (no or bad token) or 403
/// (token without the scope). Each service renders it in its own error shape.
public struct AccessDenial: Sendable, Equatable {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }
}

/// Checks a request's credentials for a scope (`tilesets:read`, `tilesets:write`, `tilesets:list`);
/// nil when the request may proceed.
public typealias AccessCheck = @Sendable (_ request: Request, _ scope: String) -> AccessDenial?

/// Small helpers every service's routes share: the public base URL, request bodies as JSON
/// or copied into the drop area.
enum ServiceKit {
    /// `scheme://host` as the client reached us: `X-Forwarded-Proto`/`X-Forwarded-Host` from a
    /// reverse proxy, else the `Host` header (the Unix socket answers as `http://localhost`).
    static func baseURL(_ request: Request) -> String {
        let proto = request.headers["X-Forwarded-Proto"]?.split(separator: ",").first.map { $0.filter { $0 != " " && $0 != "\t" } } ?? "http"
        let host = request.headers["X-Forwarded-Host"] ?? request.headers["Host"] ?? "localhost"
        let safeHost = host.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0 != "/" && $0 != "\"" && $0 != "<" && $0 != ">" } ? host : "localhost"
        return (proto == "https" ? "https" : "http") + "://" + safeHost
    }

    /// Writes a raw request body into the staged upload file at `path`, synced; returns its size.
    static func copy(_ body: RequestBody, to path: String) throws(HTTPError) -> Int64 {
        let fd = try openStaged(path)
        defer { close(fd) }
        try body.copy(toDescriptor: fd)
        try syncStaged(fd, path)
        return body.size
    }

    /// Opens a staged upload file (created by the backend) for writing, without following links.
    static func openStaged(_ path: String) throws(HTTPError) -> Int32 {
        do { return try FileSystem().openRegularFileForWriting(path) } catch {
            throw HTTPError(500, "cannot open the staged upload: \(error)")
        }
    }

    /// fsyncs a staged upload before it is handed to the ingest.
    static func syncStaged(_ fd: Int32, _ path: String) throws(HTTPError) {
        do { try FileSystem.sync(fd, target: path) } catch { throw HTTPError(500, "cannot store the upload: \(error)") }
    }

    /// Runs a service route: checks access for `scope` (nil: the route checks its own
    /// credential), runs `body`, and renders every refusal and failure in the service's `shape`.
    static func handle(_ request: Request, scope: String?, access: AccessCheck, shape: ErrorShape,
                       _ body: () throws -> Response) -> Response {
        if let scope, let denial = access(request, scope) { return shape(denial.status, denial.message) }
        do {
            return try body()
        } catch let e as HTTPError {
            return shape(e.status, e.message)
        } catch let e as ServiceError {
            return shape(status(of: e), e.message)
        } catch {
            return shape(500, "\(error)")
        }
    }

    /// The HTTP status of an expected backend failure.
    static func status(of error: ServiceError) -> Int {
        switch error {
        case .notFound: 404
        case .conflict, .invalid, .rangeMismatch: 400
        case .tooLarge: 413
        case .unavailable: 507
        }
    }

    /// The request body parsed as JSON (at most `maxBytes`), or a 400 naming the problem.
    static func jsonBody(_ request: Request, maxBytes: Int = 1 << 20) throws(HTTPError) -> JSONValue {
        let bytes = try request.body.bytes(maxBytes: maxBytes)
        guard !bytes.isEmpty else { throw HTTPError(400, "the request body must be a JSON document") }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw HTTPError(400, "the request body is not valid JSON: \(error)")
        }
    }
}
