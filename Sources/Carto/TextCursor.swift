/// A 1-based line and column in a SQL or CartoCSS text.
struct TextPosition: Sendable, Equatable {
    var line = 1
    var column = 1
}

/// Reads a text scalar by scalar and keeps the line and column, for the SQL and CartoCSS lexers.
struct TextCursor {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private(set) var position = TextPosition()

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    /// The scalar `offset` ahead, nil past the end.
    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    /// Moves one scalar on; a newline starts the next line.
    mutating func advance() {
        if scalars[index] == "\n" {
            position.line += 1
            position.column = 1
        } else {
            position.column += 1
        }
        index += 1
    }

    /// Consumes an operator: one of `pairs` (two scalars) if it starts here, else one of `singles`.
    mutating func symbol(pairs: Set<String>, singles: Set<Unicode.Scalar>) -> String? {
        guard let c = peek() else { return nil }
        if let d = peek(1) {
            var pair = String(c)
            pair.unicodeScalars.append(d)
            if pairs.contains(pair) {
                advance()
                advance()
                return pair
            }
        }
        guard singles.contains(c) else { return nil }
        advance()
        return String(c)
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    /// ASCII letters, `_`, and non-ASCII letters.
    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (c.value >= 0x80 && c.properties.isAlphabetic)
    }
}

extension String {
    /// The text cut to 40 characters for an error message.
    var excerpt: String { count > 40 ? String(prefix(40)) + "…" : self }
}
