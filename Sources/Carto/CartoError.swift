/// Why a layer's SQL or CartoCSS was refused: what is wrong, where, and what is accepted instead.
///
/// `line` and `column` are 1-based and count characters of the text as given (nil when the
/// problem is the text as a whole, such as its size). `description` puts them in front of the
/// message; that is the text to hand back to a client (CARTO answers `{"errors": [...]}`).
public struct CartoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and what is supported, without the position.
    public let message: String
    public let line: Int?
    public let column: Int?

    public init(_ message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }

    init(_ message: String, at position: TextPosition) {
        self.init(message, line: position.line, column: position.column)
    }

    public var description: String {
        guard let line else { return message }
        return "line \(line), column \(column ?? 1): \(message)"
    }
}
