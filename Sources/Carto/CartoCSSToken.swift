/// One lexical token of CartoCSS, with where it starts.
struct CartoCSSToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A name: `marker-fill`, `Map`, `red`, `zoom`.
        case ident(String)
        /// `#` and the name after it: a layer selector or a hex colour, by context.
        case hash(String)
        /// `@name`, a variable.
        case variable(String)
        /// A number with its unit, if any (`px`, `%`).
        case number(Double, unit: String)
        /// A quoted string's value.
        case string(String)
        /// Punctuation and operators: `{ } [ ] ( ) : :: ; , = != > >= < <= =~ . * / + -`.
        case symbol(String)
        case end
    }

    var kind: Kind
    var position: TextPosition

    var shown: String {
        switch kind {
        case .ident(let s): "`\(s)`"
        case .hash(let s): "`#\(s)`"
        case .variable(let s): "`@\(s)`"
        case .number(let n, let unit): "`\(CartoStyleCompiler.format(n))\(unit)`"
        case .string(let s): "the string \"\(s.excerpt)\""
        case .symbol(let s): "`\(s)`"
        case .end: "the end of the style"
        }
    }

    func isSymbol(_ s: String) -> Bool { kind == .symbol(s) }
}
