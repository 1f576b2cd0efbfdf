import GeoModel

/// Parses CartoCSS into flat rule blocks: nested blocks are combined with their parents'
/// selectors, variables are substituted, and each block keeps its declarations in order.
///
///     stylesheet := { variable | ruleset }
///     ruleset    := selector { ',' selector } '{' { variable | declaration | ruleset } '}'
///     selector   := [ '#'name | 'Map' | '*' ] [ '::'attachment ] { '[' key op value ']' }
///     declaration:= [ instance '/' ] name ':' value { ',' value } [ ';' ]   (the last ';' before '}' is optional)
///     variable   := '@'name ':' value ';'
///
/// Sizes are bounded (`maxDepth` nesting, `maxBlocks` combined blocks, `maxVariableTokens`
/// per variable) so a hostile style costs little before it is refused.
struct CartoCSSParser {
    static let maxDepth = 16
    static let maxBlocks = 2_000
    static let maxDeclarations = 20_000
    static let maxVariableTokens = 64

    /// One filter: `[key op value]`; `key` is "zoom" for zoom filters and
    /// "mapnik::geometry_type" for the geometry type (1 point, 2 line, 3 polygon).
    struct Filter: Sendable, Equatable {
        var key: String
        var op: String
        var value: JSONValue
    }

    /// A selector: which layer (nil: any), `Map`, attachment, filters.
    struct Selector: Sendable, Equatable {
        var layer: String?
        var isMap = false
        var attachment: String?
        var filters: [Filter] = []
        var position: TextPosition
    }

    struct Declaration: Sendable {
        var property: String
        var value: [CartoCSSToken]
        var position: TextPosition
    }

    /// A flattened ruleset: one combined selector and the declarations written directly in it.
    struct Block: Sendable {
        var selector: Selector
        var declarations: [Declaration]
        /// Order of the block's first declaration in the text.
        var order: Int
    }

    private let tokens: [CartoCSSToken]
    private var index = 0
    private var variables: [String: [CartoCSSToken]] = [:]
    private var declarationCount = 0
    private(set) var blocks: [Block] = []

    init(tokens: [CartoCSSToken]) { self.tokens = tokens }

    private var current: CartoCSSToken { tokens[index] }
    private func peek(_ k: Int = 1) -> CartoCSSToken { tokens[min(index + k, tokens.count - 1)] }
    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    mutating func parse() throws(CartoError) {
        while current.kind != .end {
            if case .variable = current.kind {
                try variable()
            } else if current.isSymbol(";") {
                advance()
            } else if case .ident = current.kind, peek().isSymbol(":") {
                throw fail("the declaration \(current.shown) must be inside a selector block such as `#layer { … }`")
            } else {
                try ruleset(parents: [nil], depth: 1)
            }
        }
    }

    private mutating func variable() throws(CartoError) {
        guard case .variable(let name) = current.kind else { return }
        let at = current.position
        advance()
        guard current.isSymbol(":") else { throw expected("`:` after the variable @\(name)") }
        advance()
        let value = try valueTokens()
        guard !value.isEmpty else { throw CartoError("the variable @\(name) has no value", at: at) }
        guard value.count <= CartoCSSParser.maxVariableTokens else {
            throw CartoError("the variable @\(name) is longer than \(CartoCSSParser.maxVariableTokens) tokens", at: at)
        }
        variables[name] = value
        if current.isSymbol(";") { advance() }
    }

    /// Selectors, a block, and everything in it; `parents` are the enclosing block's selectors.
    private mutating func ruleset(parents: [Selector?], depth: Int) throws(CartoError) {
        guard depth <= CartoCSSParser.maxDepth else { throw fail("blocks nest deeper than \(CartoCSSParser.maxDepth) levels") }
        var own: [Selector] = [try selector()]
        while current.isSymbol(",") {
            advance()
            own.append(try selector())
        }
        guard current.isSymbol("{") else { throw expected("`{` or `,` after a selector") }
        advance()
        var combined: [Selector] = []
        for p in parents {
            for s in own { combined.append(try CartoCSSParser.combine(p, s)) }
        }
        guard blocks.count + combined.count <= CartoCSSParser.maxBlocks else {
            throw fail("the style has more than \(CartoCSSParser.maxBlocks) rule blocks (counting each selector of a list and each nesting)")
        }
        let first = blocks.count
        for s in combined { blocks.append(Block(selector: s, declarations: [], order: Int.max)) }
        while !current.isSymbol("}") {
            switch current.kind {
            case .end: throw expected("`}` to close the block")
            case .variable: try variable()
            case .ident(let head) where peek().isSymbol(":") || (peek().isSymbol("/") && peek(3).isSymbol(":")):
                let at = current.position
                var name = head
                if peek().isSymbol("/") {
                    guard case .ident(let property) = peek(2).kind else { throw peekExpected("a property name after `\(head)/`") }
                    name = head + "/" + property
                    advance()
                    advance()
                }
                advance()
                advance()
                let value = try valueTokens(of: name)
                guard !value.isEmpty else { throw CartoError("`\(name)` has no value", at: at) }
                declarationCount += 1
                guard declarationCount <= CartoCSSParser.maxDeclarations else { throw CartoError("the style has more than \(CartoCSSParser.maxDeclarations) declarations", at: at) }
                for i in first..<(first + combined.count) {
                    blocks[i].declarations.append(Declaration(property: name, value: value, position: at))
                    blocks[i].order = min(blocks[i].order, declarationCount)
                }
                if current.isSymbol(";") {
                    advance()
                } else if !current.isSymbol("}") {
                    throw expected("`;` after the value of `\(name)`")
                }
            case .symbol(";"): advance()
            case .ident(let name) where name != "Map": throw peekExpected("`:` after the property `\(name)`")
            default: try ruleset(parents: combined, depth: depth + 1)
            }
        }
        advance()
    }

    /// The tokens of a value up to `;` or `}`, with variables replaced by their values.
    /// `property` names the declaration, for the error when its `;` is missing.
    private mutating func valueTokens(of property: String? = nil) throws(CartoError) -> [CartoCSSToken] {
        var out: [CartoCSSToken] = []
        var parens = 0
        while true {
            let t = current
            switch t.kind {
            case .end: return out
            case .symbol(";") where parens == 0, .symbol("}") where parens == 0: return out
            case .symbol("{"): throw fail("unexpected `{` in a value: a `;` is probably missing before it")
            case .ident where parens == 0 && !out.isEmpty && peek().isSymbol(":"):
                throw CartoError("expected `;` after the value of `\(property ?? "the variable")`", at: t.position)
            case .symbol("("): parens += 1
            case .symbol(")"):
                parens -= 1
                if parens < 0 { throw fail("unbalanced `)` in a value") }
            case .variable(let name):
                guard let v = variables[name] else { throw fail("the variable @\(name) is not defined (define it with `@\(name): value;` before use)") }
                out += v.map { CartoCSSToken(kind: $0.kind, position: t.position) }
                advance()
                continue
            default: break
            }
            out.append(t)
            advance()
        }
    }

    private mutating func selector() throws(CartoError) -> Selector {
        var s = Selector(position: current.position)
        var any = false
        switch current.kind {
        case .hash(let name):
            s.layer = name
            any = true
            advance()
        case .ident("Map"):
            s.isMap = true
            any = true
            advance()
        case .symbol("*"):
            any = true
            advance()
        case .symbol("."):
            throw fail("class selectors (`.name`) are not supported: select layers with `#name` and features with `[filters]`")
        default: break
        }
        if current.isSymbol("::") {
            advance()
            guard case .ident(let a) = current.kind else { throw expected("an attachment name after `::`") }
            s.attachment = a
            any = true
            advance()
        }
        while current.isSymbol("[") {
            s.filters.append(try filter())
            any = true
        }
        guard any else { throw expected("a selector (`#layer`, `Map`, `*`, `::attachment` or `[filter]`)") }
        return s
    }

    private mutating func filter() throws(CartoError) -> Filter {
        advance()
        var key: String
        switch current.kind {
        case .ident(let k), .string(let k): key = k
        default: throw expected("a property name or `zoom` in the filter")
        }
        let keyAt = current.position
        advance()
        if key == "mapnik", current.isSymbol("::"), case .ident(let sub) = peek().kind {
            key = "mapnik::" + sub
            advance()
            advance()
        }
        if key.hasPrefix("mapnik::") && key != "mapnik::geometry_type" {
            throw CartoError("the filter `\(key)` is not supported; of Mapnik's own keys only mapnik::geometry_type (1 point, 2 line, 3 polygon) is", at: keyAt)
        }
        guard case .symbol(let op) = current.kind, ["=", "!=", ">", ">=", "<", "<="].contains(op) else {
            if current.isSymbol("=~") { throw fail("regular-expression filters (`=~`) are not supported; use `=` or `!=`") }
            throw expected("a comparison (= != > >= < <=) in the filter")
        }
        advance()
        let valueAt = current.position
        var valueToken = current
        if case .variable(let name) = current.kind {
            guard let v = variables[name], v.count == 1 else { throw fail("the variable @\(name) is not defined as a single value") }
            valueToken = v[0]
        }
        let value: JSONValue
        switch valueToken.kind {
        case .number(let n, ""): value = n == n.rounded() && abs(n) < 9e15 ? .int(Int64(n)) : .double(n)
        case .symbol("-"):
            advance()
            guard case .number(let n, "") = current.kind else { throw expected("a number after `-`") }
            value = n == n.rounded() && abs(n) < 9e15 ? .int(-Int64(n)) : .double(-n)
        case .string(let v): value = .string(v)
        case .ident("null"): value = .null
        case .ident("true"), .ident("false"): value = .bool(valueToken.kind == .ident("true"))
        case .ident(let v): value = .string(v)
        default: throw expected("a number, a string, true, false or null as the filter's value")
        }
        advance()
        if key == "zoom" {
            guard let z = value.doubleValue, z >= 0, z <= 30 else { throw CartoError("a zoom filter compares with a number from 0 to 30", at: valueAt) }
        }
        guard current.isSymbol("]") else { throw expected("`]` to close the filter") }
        advance()
        return Filter(key: key, op: op, value: value)
    }

    /// A nested selector inside its parent: filters add up, the layer and attachment are inherited.
    static func combine(_ parent: Selector?, _ child: Selector) throws(CartoError) -> Selector {
        guard let parent else { return child }
        var s = child
        if parent.isMap || child.isMap {
            guard parent.isMap == child.isMap || parent.layer == nil && child.layer == nil else {
                throw CartoError("`Map` cannot be combined with a layer selector", at: child.position)
            }
            s.isMap = true
        }
        if let p = parent.layer {
            if let c = child.layer, c != p { throw CartoError("`#\(c)` inside `#\(p)` selects nothing; close the `#\(p)` block first", at: child.position) }
            s.layer = p
        }
        s.attachment = child.attachment ?? parent.attachment
        s.filters = parent.filters + child.filters
        return s
    }

    private func fail(_ message: String) -> CartoError { CartoError(message, at: current.position) }

    private func expected(_ what: String) -> CartoError { fail("expected \(what) but found \(current.shown)") }

    private func peekExpected(_ what: String) -> CartoError {
        CartoError("expected \(what) but found \(peek().shown)", at: peek().position)
    }
}
