/// A request the server refuses before (or instead of) a handler: status code and a message
/// saying what was wrong and what to do. The router's error shape turns it into a response.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    /// Close the connection after answering (the rest of the request cannot be trusted).
    public var closesConnection: Bool

    public init(_ status: Int, _ message: String, closesConnection: Bool = false) {
        self.status = status
        self.message = message
        self.closesConnection = closesConnection
    }

    public var description: String { "\(status) \(message)" }
}
