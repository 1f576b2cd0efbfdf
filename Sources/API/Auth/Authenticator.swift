import HTTP

/// Who is asking.
public enum Caller: Sendable, Equatable {
    /// Root or the daemon's user on the Unix socket (`SO_PEERCRED`): needs no token.
    case localAdmin
    case token(TokenRecord)
    case anonymous

    /// The account the caller acts as (the token's owner); nil for the local admin and anonymous.
    public var owner: String? {
        if case .token(let t) = self { return t.owner }
        return nil
    }
}

/// Why a request was refused: 401 (no or unknown token) or 403 (scope missing). Each service
/// turns it into its own error shape.
public struct AuthFailure: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
}

/// Finds and checks the token of a request, the way each service sends it:
/// `?access_token=` (Mapbox), `Authorization: Token …` (MapTiler, MapHub; `Bearer` too),
/// `?api_key=` (CARTO). Tokens are compared by SHA-256 in constant time and never logged.
///
/// Routes call `require(scope, of:)` and map a failure to their error shape:
/// ```
/// if case .failure(let f) = auth.require("tilesets:read", of: request) { return mtsError(f.status, f.message) }
/// ```
public struct Authenticator: Sendable {
    public let store: TokenStore

    public init(store: TokenStore) { self.store = store }

    /// The token string a request carries, if any.
    public static func presentedToken(_ request: Request) -> String? {
        if let t = request.query["access_token"], !t.isEmpty { return t }
        if let header = request.headers["Authorization"] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, ["token", "bearer"].contains(parts[0].lowercased()) {
                return String(parts[1]).trimmingCharacters(in: " ")
            }
        }
        if let t = request.query["api_key"], !t.isEmpty { return t }
        return nil
    }

    /// The caller: the local admin, a valid token, or anonymous; 401 for a token we do not know.
    public func caller(of request: Request) -> Result<Caller, AuthFailure> {
        if request.peer.isLocalAdmin { return .success(.localAdmin) }
        guard let token = Self.presentedToken(request) else { return .success(.anonymous) }
        guard let record = store.verify(token) else {
            return .failure(AuthFailure(status: 401, message: "Not Authorized - Invalid Token"))
        }
        return .success(.token(record))
    }

    /// Succeeds for the local admin or a token with `scope`: 401 without a valid token,
    /// 403 when the token lacks the scope.
    public func require(_ scope: String, of request: Request) -> Result<Caller, AuthFailure> {
        switch caller(of: request) {
        case .failure(let f): return .failure(f)
        case .success(.anonymous): return .failure(AuthFailure(status: 401, message: "Not Authorized - No Token"))
        case .success(.token(let t)) where !t.allows(scope):
            return .failure(AuthFailure(status: 403, message: "This endpoint requires a token with \(scope) scope"))
        case .success(let c): return .success(c)
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        return String(drop(while: { chars.contains($0) }).reversed().drop(while: { chars.contains($0) }).reversed())
    }
}
