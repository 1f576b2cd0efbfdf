/// Splits CartoCSS into tokens; `/* … */` and `// …` comments are skipped.
struct CartoCSSLexer {
    private var cursor: TextCursor

    private static let pairs: Set<String> = ["::", "!=", ">=", "<=", "=~"]
    private static let singles: Set<Unicode.Scalar> = ["{", "}", "[", "]", "(", ")", ":", ";", ",", "=", ">", "<", ".", "*", "/", "+", "-", "%", "!"]

    init(_ text: String) { cursor = TextCursor(text) }

    static func tokens(_ text: String) throws(CartoError) -> [CartoCSSToken] {
        var lexer = CartoCSSLexer(text)
        var out: [CartoCSSToken] = []
        repeat { out.append(try lexer.next()) } while out.last?.kind != .end
        return out
    }

    private mutating func skipSpaceAndComments() throws(CartoError) {
        while let c = cursor.peek() {
            if c.properties.isWhitespace {
                cursor.advance()
            } else if c == "/" && cursor.peek(1) == "*" {
                let start = cursor.position
                cursor.advance()
                cursor.advance()
                while !(cursor.peek() == "*" && cursor.peek(1) == "/") {
                    guard cursor.peek() != nil else { throw CartoError("unterminated comment: close it with */", at: start) }
                    cursor.advance()
                }
                cursor.advance()
                cursor.advance()
            } else if c == "/" && cursor.peek(1) == "/" {
                while let d = cursor.peek(), d != "\n" { cursor.advance() }
            } else {
                return
            }
        }
    }

    mutating func next() throws(CartoError) -> CartoCSSToken {
        try skipSpaceAndComments()
        let start = cursor.position
        guard let c = cursor.peek() else { return CartoCSSToken(kind: .end, position: start) }
        func token(_ k: CartoCSSToken.Kind) -> CartoCSSToken { CartoCSSToken(kind: k, position: start) }
        if c == "\"" || c == "'" { return token(.string(try string(c, start: start))) }
        if c == "#" || c == "@" {
            cursor.advance()
            let name = name()
            guard !name.isEmpty else { throw CartoError("`\(c)` must be followed by a name", at: start) }
            return token(c == "#" ? .hash(name) : .variable(name))
        }
        if TextCursor.isDigit(c) || (c == "." && cursor.peek(1).map(TextCursor.isDigit) == true) {
            var text = ""
            while let d = cursor.peek(), TextCursor.isDigit(d) || d == "." {
                text.unicodeScalars.append(d)
                cursor.advance()
            }
            guard let value = Double(text), value.isFinite else { throw CartoError("malformed number `\(text)`", at: start) }
            var unit = ""
            if cursor.peek() == "%" {
                unit = "%"
                cursor.advance()
            } else if let d = cursor.peek(), TextCursor.isLetter(d) {
                unit = name()
            }
            return token(.number(value, unit: unit))
        }
        if TextCursor.isLetter(c) || (c == "-" && cursor.peek(1).map(TextCursor.isLetter) == true) {
            return token(.ident(name()))
        }
        if let symbol = cursor.symbol(pairs: CartoCSSLexer.pairs, singles: CartoCSSLexer.singles) {
            return token(.symbol(symbol))
        }
        throw CartoError("unexpected character `\(c.escaped(asASCII: true))` in CartoCSS", at: start)
    }

    /// Letters, digits, `-` and `_`.
    private mutating func name() -> String {
        var text = ""
        while let d = cursor.peek(), TextCursor.isLetter(d) || TextCursor.isDigit(d) || d == "-" {
            text.unicodeScalars.append(d)
            cursor.advance()
        }
        return text
    }

    /// A quoted string; a backslash escapes the next character.
    private mutating func string(_ quote: Unicode.Scalar, start: TextPosition) throws(CartoError) -> String {
        cursor.advance()
        var text = ""
        while true {
            guard let c = cursor.peek(), c != "\n" else { throw CartoError("unterminated string: close it with \(quote) on the same line", at: start) }
            cursor.advance()
            if c == quote { return text }
            if c == "\\", let d = cursor.peek() {
                cursor.advance()
                text.unicodeScalars.append(d)
                continue
            }
            text.unicodeScalars.append(c)
        }
    }
}
