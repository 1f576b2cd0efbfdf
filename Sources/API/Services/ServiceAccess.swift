import HTTP

/// Who may call the service routes, by the same rules as the operator routes: on the Unix
/// socket, reads are open (its mode 0660 decides who may connect) and changes need the local
/// admin (root or the daemon's user, by `SO_PEERCRED`) or a token; over TCP every request needs
/// a token with the route's scope (401 without or with an unknown one, 403 without the scope).
public enum ServiceAccess {
    public static func check(_ authenticator: Authenticator) -> AccessCheck {
        { request, scope in
            if request.peer.isUnixSocket && !scope.hasSuffix(":write") { return nil }
            switch authenticator.require(scope, of: request) {
            case .success:
                return nil
            case .failure(let f):
                if request.peer.isUnixSocket && f.status == 401 {
                    return AccessDenial(status: 403, message: "only root or the daemon's user may do this over the Unix socket (or send a token with the scope \(scope))")
                }
                return AccessDenial(status: f.status, message: f.message)
            }
        }
    }
}
