import HTTP

/// Access policies for the service routes.
public enum ServiceAccess {
    /// Only the local administrator (root or the daemon's user on the Unix socket, by
    /// `SO_PEERCRED`) — the policy while no tokens file exists.
    public static func localAdminOnly(_ request: Request) -> AccessDenial? {
        request.peer.isLocalAdmin ? nil : AccessDenial(status: 401, message: "Not Authorized - No Token")
    }
}
