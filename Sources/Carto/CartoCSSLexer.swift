/// Splits CartoCSS into tokens; `/* … */` and `// …` comments are skipped.
struct CartoCSSLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var position = TextPosition()

    private static let pairs: Set<String> = ["::", "!=", ">=", "<=", "=~"]
    private static let singles: Set<Unicode.Scalar> = ["{", "}", "[", "]", "(", ")", ":", ";", ",", "=", ">", "<", ".", "*", "/", "+", "-", "%", "!"]

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    static func tokens(_ text: String) throws(CartoError) -> [CartoCSSToken] {
        var lexer = CartoCSSLexer(text)
        var out: [CartoCSSToken] = []
        while true {
            let t = try lexer.next()
            out.append(t)
            if t.kind == .end { return out }
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func advance() {
        if scalars[index] == "\n" {
            position.line += 1
            position.column = 1
        } else {
            position.column += 1
        }
        index += 1
    }

    private mutating func skipSpaceAndComments() throws(CartoError) {
        while let c = peek() {
            if c.properties.isWhitespace {
                advance()
            } else if c == "/" && peek(1) == "*" {
                let start = position
                advance()
                advance()
                while !(peek() == "*" && peek(1) == "/") {
                    guard peek() != nil else { throw CartoError("unterminated comment: close it with */", at: start) }
                    advance()
                }
                advance()
                advance()
            } else if c == "/" && peek(1) == "/" {
                while let d = peek(), d != "\n" { advance() }
            } else {
                return
            }
        }
    }

    mutating func next() throws(CartoError) -> CartoCSSToken {
        try skipSpaceAndComments()
        let start = position
        guard let c = peek() else { return CartoCSSToken(kind: .end, position: start) }
        func token(_ k: CartoCSSToken.Kind) -> CartoCSSToken { CartoCSSToken(kind: k, position: start) }
        if c == "\"" || c == "'" { return token(.string(try string(c, start: start))) }
        if c == "#" || c == "@" {
            advance()
            let name = name()
            guard !name.isEmpty else { throw CartoError("`\(c)` must be followed by a name", at: start) }
            return token(c == "#" ? .hash(name) : .variable(name))
        }
        if CartoCSSLexer.isDigit(c) || (c == "." && peek(1).map(CartoCSSLexer.isDigit) == true) {
            var text = ""
            while let d = peek(), CartoCSSLexer.isDigit(d) || d == "." {
                text.unicodeScalars.append(d)
                advance()
            }
            guard let value = Double(text), value.isFinite else { throw CartoError("malformed number `\(text)`", at: start) }
            var unit = ""
            if peek() == "%" {
                unit = "%"
                advance()
            } else if let d = peek(), CartoCSSLexer.isNameStart(d) {
                unit = name()
            }
            return token(.number(value, unit: unit))
        }
        if CartoCSSLexer.isNameStart(c) || (c == "-" && peek(1).map(CartoCSSLexer.isNameStart) == true) {
            return token(.ident(name()))
        }
        if let d = peek(1) {
            var pair = String(c)
            pair.unicodeScalars.append(d)
            if CartoCSSLexer.pairs.contains(pair) {
                advance()
                advance()
                return token(.symbol(pair))
            }
        }
        if CartoCSSLexer.singles.contains(c) {
            advance()
            return token(.symbol(String(c)))
        }
        throw CartoError("unexpected character `\(c.escaped(asASCII: true))` in CartoCSS", at: start)
    }

    /// Letters, digits, `-` and `_`.
    private mutating func name() -> String {
        var text = ""
        while let d = peek(), CartoCSSLexer.isNameStart(d) || CartoCSSLexer.isDigit(d) || d == "-" {
            text.unicodeScalars.append(d)
            advance()
        }
        return text
    }

    /// A quoted string; a backslash escapes the next character.
    private mutating func string(_ quote: Unicode.Scalar, start: TextPosition) throws(CartoError) -> String {
        advance()
        var text = ""
        while true {
            guard let c = peek(), c != "\n" else { throw CartoError("unterminated string: close it with \(quote) on the same line", at: start) }
            advance()
            if c == quote { return text }
            if c == "\\", let d = peek() {
                advance()
                text.unicodeScalars.append(d)
                continue
            }
            text.unicodeScalars.append(c)
        }
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (c.value >= 0x80 && c.properties.isAlphabetic)
    }
}
