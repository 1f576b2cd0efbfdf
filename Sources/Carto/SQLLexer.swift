/// Splits layer SQL into tokens, refusing what the subset never accepts at the character level:
/// comments, dollar quoting and characters no part of the subset uses.
///
/// Comments are refused rather than skipped: nothing in a layer query may be invisible to the
/// reader of an error message, and `--` is the classic way to cut off the rest of a statement.
struct SQLLexer {
    private var cursor: TextCursor

    /// Two-character operators recognised as one token (so `<>` is not `<` then `>`).
    private static let pairs: Set<String> = ["<>", "!=", "<=", ">=", "::", "||", "!~", "~~", "->", "=>", "@>", "<@", "&&"]
    private static let singles: Set<Unicode.Scalar> = ["*", ",", "(", ")", ";", ".", "=", "<", ">", "+", "-", "/", "%", "^", "~", "!", "@", "#", "&", "|", "?", "[", "]", ":"]

    init(_ text: String) { cursor = TextCursor(text) }

    /// All tokens, ending with `.end`.
    static func tokens(_ text: String) throws(CartoError) -> [SQLToken] {
        var lexer = SQLLexer(text)
        var out: [SQLToken] = []
        repeat { out.append(try lexer.next()) } while out.last?.kind != .end
        return out
    }

    mutating func next() throws(CartoError) -> SQLToken {
        while let c = cursor.peek(), c.properties.isWhitespace { cursor.advance() }
        let start = cursor.position
        guard let c = cursor.peek() else { return SQLToken(kind: .end, position: start) }
        if (c == "-" && cursor.peek(1) == "-") || (c == "/" && cursor.peek(1) == "*") {
            throw CartoError("comments are not accepted in layer SQL; remove the `\(c)\(c == "-" ? "-" : "*")` comment", at: start)
        }
        if c == "'" { return SQLToken(kind: .string(try quoted("'", start: start)), position: start) }
        if c == "\"" {
            let name = try quoted("\"", start: start)
            guard !name.isEmpty else { throw CartoError("an empty quoted identifier `\"\"` names nothing", at: start) }
            return SQLToken(kind: .quoted(name), position: start)
        }
        if TextCursor.isDigit(c) || (c == "." && cursor.peek(1).map(TextCursor.isDigit) == true) { return SQLToken(kind: .number(try number(start)), position: start) }
        if TextCursor.isLetter(c) {
            var word = ""
            while let d = cursor.peek(), TextCursor.isLetter(d) || TextCursor.isDigit(d) || d == "$" {
                word.unicodeScalars.append(d)
                cursor.advance()
            }
            return SQLToken(kind: .word(word.lowercased()), position: start)
        }
        if c == "$" {
            throw CartoError("`$` (dollar quoting or parameters) is not accepted in layer SQL; write strings as 'text' with '' for a quote", at: start)
        }
        if let symbol = cursor.symbol(pairs: SQLLexer.pairs, singles: SQLLexer.singles) {
            return SQLToken(kind: .symbol(symbol), position: start)
        }
        throw CartoError("unexpected character `\(c.escaped(asASCII: true))` in layer SQL", at: start)
    }

    /// A `'…'` string or `"…"` identifier body; a doubled delimiter stands for one.
    private mutating func quoted(_ delimiter: Unicode.Scalar, start: TextPosition) throws(CartoError) -> String {
        cursor.advance()
        var text = ""
        while true {
            guard let c = cursor.peek() else {
                let what = delimiter == "'" ? "string literal" : "quoted identifier"
                throw CartoError("unterminated \(what): add the closing \(delimiter) (write \(delimiter)\(delimiter) for a \(delimiter) inside)", at: start)
            }
            cursor.advance()
            if c == delimiter {
                guard cursor.peek() == delimiter else { return text }
                cursor.advance()
            }
            text.unicodeScalars.append(c)
        }
    }

    /// Digits, an optional fraction and an optional exponent; a letter right after is an error.
    private mutating func number(_ start: TextPosition) throws(CartoError) -> String {
        var text = ""
        func take(_ lexer: inout SQLLexer) {
            text.unicodeScalars.append(lexer.cursor.peek()!)
            lexer.cursor.advance()
        }
        while let d = cursor.peek(), TextCursor.isDigit(d) { take(&self) }
        if cursor.peek() == ".", cursor.peek(1) != "." {
            take(&self)
            while let d = cursor.peek(), TextCursor.isDigit(d) { take(&self) }
        }
        if let e = cursor.peek(), e == "e" || e == "E" {
            let signed = cursor.peek(1) == "+" || cursor.peek(1) == "-"
            if let d = cursor.peek(signed ? 2 : 1), TextCursor.isDigit(d) {
                take(&self)
                if signed { take(&self) }
                while let d = cursor.peek(), TextCursor.isDigit(d) { take(&self) }
            }
        }
        if let c = cursor.peek(), TextCursor.isLetter(c) || c == "." {
            throw CartoError("malformed number `\(text)\(c)`: put a space or an operator after a number", at: start)
        }
        return text
    }
}
