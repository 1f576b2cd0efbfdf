/// Splits layer SQL into tokens, refusing what the subset never accepts at the character level:
/// comments, dollar quoting and characters no part of the subset uses.
///
/// Comments are refused rather than skipped: nothing in a layer query may be invisible to the
/// reader of an error message, and `--` is the classic way to cut off the rest of a statement.
struct SQLLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var position = TextPosition()

    /// Two-character operators recognised as one token (so `<>` is not `<` then `>`).
    private static let pairs: Set<String> = ["<>", "!=", "<=", ">=", "::", "||", "!~", "~~", "->", "=>", "@>", "<@", "&&"]
    private static let singles: Set<Unicode.Scalar> = ["*", ",", "(", ")", ";", ".", "=", "<", ">", "+", "-", "/", "%", "^", "~", "!", "@", "#", "&", "|", "?", "[", "]", ":"]

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    /// All tokens, ending with `.end`.
    static func tokens(_ text: String) throws(CartoError) -> [SQLToken] {
        var lexer = SQLLexer(text)
        var out: [SQLToken] = []
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

    mutating func next() throws(CartoError) -> SQLToken {
        while let c = peek(), c.properties.isWhitespace { advance() }
        let start = position
        guard let c = peek() else { return SQLToken(kind: .end, position: start) }
        if (c == "-" && peek(1) == "-") || (c == "/" && peek(1) == "*") {
            throw CartoError("comments are not accepted in layer SQL; remove the `\(c)\(c == "-" ? "-" : "*")` comment", at: start)
        }
        if c == "'" { return SQLToken(kind: .string(try quoted("'", start: start)), position: start) }
        if c == "\"" {
            let name = try quoted("\"", start: start)
            guard !name.isEmpty else { throw CartoError("an empty quoted identifier `\"\"` names nothing", at: start) }
            return SQLToken(kind: .quoted(name), position: start)
        }
        if SQLLexer.isDigit(c) || (c == "." && peek(1).map(SQLLexer.isDigit) == true) { return SQLToken(kind: .number(try number(start)), position: start) }
        if SQLLexer.isWordStart(c) {
            var word = ""
            while let d = peek(), SQLLexer.isWordStart(d) || SQLLexer.isDigit(d) || d == "$" {
                word.unicodeScalars.append(d)
                advance()
            }
            return SQLToken(kind: .word(word.lowercased()), position: start)
        }
        if c == "$" {
            throw CartoError("`$` (dollar quoting or parameters) is not accepted in layer SQL; write strings as 'text' with '' for a quote", at: start)
        }
        if let d = peek(1) {
            var pair = String(c)
            pair.unicodeScalars.append(d)
            if SQLLexer.pairs.contains(pair) {
                advance()
                advance()
                return SQLToken(kind: .symbol(pair), position: start)
            }
        }
        if SQLLexer.singles.contains(c) {
            advance()
            return SQLToken(kind: .symbol(String(c)), position: start)
        }
        throw CartoError("unexpected character `\(c.escaped(asASCII: true))` in layer SQL", at: start)
    }

    /// A `'…'` string or `"…"` identifier body; a doubled delimiter stands for one.
    private mutating func quoted(_ delimiter: Unicode.Scalar, start: TextPosition) throws(CartoError) -> String {
        advance()
        var text = ""
        while true {
            guard let c = peek() else {
                let what = delimiter == "'" ? "string literal" : "quoted identifier"
                throw CartoError("unterminated \(what): add the closing \(delimiter) (write \(delimiter)\(delimiter) for a \(delimiter) inside)", at: start)
            }
            advance()
            if c == delimiter {
                guard peek() == delimiter else { return text }
                advance()
            }
            text.unicodeScalars.append(c)
        }
    }

    /// Digits, an optional fraction and an optional exponent; a letter right after is an error.
    private mutating func number(_ start: TextPosition) throws(CartoError) -> String {
        var text = ""
        func take(_ lexer: inout SQLLexer) {
            text.unicodeScalars.append(lexer.peek()!)
            lexer.advance()
        }
        while let d = peek(), SQLLexer.isDigit(d) { take(&self) }
        if peek() == ".", !(peek(1) == "." ) {
            take(&self)
            while let d = peek(), SQLLexer.isDigit(d) { take(&self) }
        }
        if let e = peek(), e == "e" || e == "E" {
            let signed = peek(1) == "+" || peek(1) == "-"
            if let d = peek(signed ? 2 : 1), SQLLexer.isDigit(d) {
                take(&self)
                if signed { take(&self) }
                while let d = peek(), SQLLexer.isDigit(d) { take(&self) }
            }
        }
        if let c = peek(), SQLLexer.isWordStart(c) || c == "." {
            throw CartoError("malformed number `\(text)\(c)`: put a space or an operator after a number", at: start)
        }
        return text
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    static func isWordStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (c.value >= 0x80 && c.properties.isAlphabetic)
    }
}
