/// One lexical token of layer SQL, with where it starts.
struct SQLToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// An unquoted word, folded to lower case as PostgreSQL folds unquoted identifiers.
        case word(String)
        /// A double-quoted identifier, exactly as written (`""` inside stands for `"`).
        case quoted(String)
        /// A numeric literal's text.
        case number(String)
        /// A single-quoted string literal's value (`''` inside stands for `'`).
        case string(String)
        /// An operator or punctuation: `* , ( ) ; . = <> != < <= > >= :: || + - / %` and the like.
        case symbol(String)
        case end
    }

    var kind: Kind
    var position: TextPosition

    /// How the token reads in an error message.
    var shown: String {
        switch kind {
        case .word(let w): "`\(w)`"
        case .quoted(let q): "`\"\(q)\"`"
        case .number(let n): "`\(n)`"
        case .string(let s): "the string '\(s.excerpt)'"
        case .symbol(let s): "`\(s)`"
        case .end: "the end of the query"
        }
    }

    func isWord(_ w: String) -> Bool { kind == .word(w) }
    func isSymbol(_ s: String) -> Bool { kind == .symbol(s) }
}
