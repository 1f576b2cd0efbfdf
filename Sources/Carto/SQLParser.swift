import GeoModel
import Tiling

/// Recursive-descent parser for the layer SQL subset:
///
///     query     := SELECT ( '*' | column {',' column} ) FROM name [WHERE or] [';']
///     or        := and {OR and}
///     and       := not {AND not}
///     not       := NOT not | primary
///     primary   := '(' or ')' | operand [ compare operand | [NOT] IN '(' literal {',' literal} ')'
///                  | [NOT] (LIKE | ILIKE) operand | IS [NOT] NULL ]
///     operand   := column | number | '-' number | string | TRUE | FALSE | NULL
///
/// Precedence follows PostgreSQL: comparisons bind tightest, then NOT, then AND, then OR.
/// Everything else stops the parse with an error that names the construct and its position;
/// recursion happens only at `(` and `NOT`, and both count against `maxDepth`, so hostile
/// nesting ends in an error long before the stack is at risk.
struct SQLParser {
    static let maxDepth = 100
    static let maxListItems = 10_000

    private let tokens: [SQLToken]
    private var index = 0
    private var depth = 0
    /// Columns named anywhere in the query, in first-use order.
    private(set) var referenced: [String] = []

    init(tokens: [SQLToken]) { self.tokens = tokens }

    /// Words that are SQL keywords the subset does not accept, with how to say what they start.
    static let refused: [String: String] = [
        "join": "JOIN", "inner": "JOIN", "left": "JOIN", "right": "JOIN", "full": "JOIN", "cross": "JOIN", "natural": "JOIN",
        "lateral": "LATERAL", "on": "JOIN … ON", "using": "JOIN … USING",
        "group": "GROUP BY", "order": "ORDER BY", "limit": "LIMIT", "offset": "OFFSET", "fetch": "FETCH",
        "union": "UNION", "intersect": "INTERSECT", "except": "EXCEPT", "having": "HAVING", "window": "WINDOW",
        "with": "WITH (common table expressions)", "as": "aliases (AS)", "distinct": "DISTINCT", "all": "ALL",
        "between": "BETWEEN (write `x >= a AND x <= b`)", "similar": "SIMILAR TO", "escape": "LIKE … ESCAPE",
        "case": "CASE expressions", "exists": "EXISTS", "any": "ANY", "some": "SOME", "cast": "CAST",
        "insert": "INSERT", "update": "UPDATE", "delete": "DELETE", "drop": "DROP", "create": "CREATE", "alter": "ALTER",
        "truncate": "TRUNCATE", "grant": "GRANT", "into": "SELECT … INTO", "values": "VALUES", "returning": "RETURNING",
        "for": "FOR UPDATE/SHARE", "interval": "INTERVAL literals", "tablesample": "TABLESAMPLE", "only": "ONLY",
    ]

    /// Words with a meaning in the grammar, so never column names unless double-quoted.
    static let keywords: Set<String> = ["select", "from", "where", "and", "or", "not", "in", "like", "ilike", "is", "null", "true", "false"]

    private var current: SQLToken { tokens[index] }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private static let shape = "layer SQL is `SELECT * | column, … FROM name [WHERE condition]`"

    /// Parses a whole query: the source, the select list (nil for `*`) and the compiled filter.
    mutating func query() throws(CartoError) -> (source: String, columns: [String]?, filter: SQLCondition?) {
        guard current.isWord("select") else {
            if case .word(let w) = current.kind, let name = SQLParser.refused[w] {
                throw unsupported(name, "only SELECT queries are accepted: \(SQLParser.shape)")
            }
            throw fail("expected SELECT but found \(current.shown): \(SQLParser.shape)")
        }
        advance()
        let columns = try selectList()
        guard current.isWord("from") else { throw fail("expected FROM after the select list but found \(current.shown)") }
        advance()
        let source = try sourceName()
        var filter: SQLCondition?
        if current.isWord("where") {
            advance()
            filter = try or()
        }
        if current.isSymbol(";") {
            advance()
            guard current.kind == .end else {
                throw fail("only one statement is accepted: found \(current.shown) after `;` (a layer is one SELECT)")
            }
        }
        guard current.kind == .end else { throw unexpected(filter == nil ? "WHERE or the end of the query" : "AND, OR or the end of the query") }
        return (source, columns, filter)
    }

    private mutating func selectList() throws(CartoError) -> [String]? {
        if current.isSymbol("*") {
            advance()
            if current.isSymbol(",") { throw unsupported("columns after `*`", "select either `*` or a list of columns") }
            return nil
        }
        var columns: [String] = []
        while true {
            columns.append(try columnName(purpose: "a column name or `*` in the select list"))
            if current.isSymbol(",") {
                advance()
                continue
            }
            if current.isWord("from") { return columns }
            if current.isWord("as") { throw unsupported("aliases (AS)", "columns keep their names") }
            throw unexpected("`,` or FROM after a selected column (expressions and aliases are not supported)")
        }
    }

    private mutating func sourceName() throws(CartoError) -> String {
        if current.isSymbol("(") {
            throw unsupported("subqueries", "FROM names one tileset or map")
        }
        let name = try identifier(purpose: "a tileset or map name after FROM")
        if current.isSymbol(".") { throw unsupported("schema-qualified names (`schema.table`)", "FROM names one tileset or map; quote a name with dots as \"a.b\"") }
        if current.isSymbol(",") { throw unsupported("several tables in FROM (a join)", "a layer reads one tileset or map") }
        if current.isSymbol("(") { throw unsupported("table functions in FROM", "FROM names one tileset or map") }
        return name
    }

    /// A plain or quoted identifier that is not a keyword.
    private mutating func identifier(purpose: String) throws(CartoError) -> String {
        switch current.kind {
        case .quoted(let name):
            advance()
            return name
        case .word(let w) where SQLParser.refused[w] == nil && !SQLParser.keywords.contains(w):
            advance()
            return w
        case .word(let w) where SQLParser.refused[w] != nil:
            throw unsupported(SQLParser.refused[w]!, "expected \(purpose)")
        default:
            throw fail("expected \(purpose) but found \(current.shown)")
        }
    }

    /// A column reference; rejects calls (`upper(name)`) and qualified names (`t.name`).
    private mutating func columnName(purpose: String) throws(CartoError) -> String {
        if current.isWord("select") || (current.isSymbol("(") && tokens[index + 1].isWord("select")) {
            throw unsupported("subqueries", "a layer reads one tileset or map")
        }
        let name = try identifier(purpose: purpose)
        if current.isSymbol("(") {
            index -= 1
            throw unsupported("function calls (`\(name)(…)`)", "compare columns with literals directly")
        }
        if current.isSymbol(".") { throw unsupported("qualified column names (`\(name).…`)", "name columns alone") }
        if current.isSymbol("::") { throw unsupported("type casts (`::`)", "columns are compared as they are stored") }
        if !referenced.contains(name) { referenced.append(name) }
        return name
    }

    private mutating func or() throws(CartoError) -> SQLCondition {
        .or(try run(of: "or") { (p: inout SQLParser) throws(CartoError) in try p.and() })
    }

    private mutating func and() throws(CartoError) -> SQLCondition {
        .and(try run(of: "and") { (p: inout SQLParser) throws(CartoError) in try p.not() })
    }

    /// `operand {keyword operand}`, read in a loop: a long chain of ORs or ANDs costs no stack.
    private mutating func run(of keyword: String, _ operand: (inout SQLParser) throws(CartoError) -> SQLCondition) throws(CartoError) -> [SQLCondition] {
        var parts = [try operand(&self)]
        while current.isWord(keyword) {
            advance()
            parts.append(try operand(&self))
        }
        return parts
    }

    private mutating func not() throws(CartoError) -> SQLCondition {
        guard current.isWord("not") else { return try primary() }
        try enter()
        advance()
        let inner = try not()
        depth -= 1
        return inner.negated
    }

    private mutating func enter() throws(CartoError) {
        depth += 1
        if depth > SQLParser.maxDepth {
            throw fail("the condition nests deeper than \(SQLParser.maxDepth) levels of parentheses and NOT; flatten it")
        }
    }

    private mutating func primary() throws(CartoError) -> SQLCondition {
        if current.isSymbol("(") {
            if tokens[index + 1].isWord("select") {
                advance()
                throw unsupported("subqueries", "conditions compare a feature's own columns with literals")
            }
            try enter()
            advance()
            let inner = try or()
            guard current.isSymbol(")") else { throw unexpected("`)` to close the parenthesis") }
            advance()
            depth -= 1
            return inner
        }
        if current.isWord("exists") { throw unsupported("EXISTS", "conditions compare a feature's own columns with literals") }
        let left = try operand()
        let negated = current.isWord("not")
        if negated {
            let next = tokens[index + 1]
            guard next.isWord("in") || next.isWord("like") || next.isWord("ilike") else {
                advance()
                throw unexpected("IN, LIKE or ILIKE after NOT")
            }
            advance()
        }
        switch current.kind {
        case .symbol(let s) where ["=", "<>", "!=", "<", "<=", ">", ">="].contains(s):
            advance()
            let right = try operand()
            if case .symbol(let t) = current.kind, ["=", "<>", "!=", "<", "<=", ">", ">="].contains(t) {
                throw fail("comparisons cannot be chained (`a \(s) b \(t) c`); join them with AND")
            }
            return .compare(s == "<>" ? "!=" : s, left, right)
        case .word("in"):
            advance()
            let c = SQLCondition.isIn(left, try list())
            return negated ? c.negated : c
        case .word("like"), .word("ilike"):
            let caseInsensitive = current.isWord("ilike")
            advance()
            let c = SQLCondition.like(left, try operand(), caseInsensitive: caseInsensitive)
            if current.isWord("escape") { throw unsupported("LIKE … ESCAPE", "a backslash escapes `%` and `_`") }
            return negated ? c.negated : c
        case .word("is"):
            advance()
            var isNot = false
            if current.isWord("not") {
                isNot = true
                advance()
            }
            guard current.isWord("null") else {
                throw fail("IS is supported only as IS NULL or IS NOT NULL, found IS \(isNot ? "NOT " : "")\(current.shown)")
            }
            advance()
            let c = SQLCondition.isNull(left)
            return isNot ? c.negated : c
        default:
            switch left {
            case .column, .literal(.bool), .literal(.null): return .truth(left)
            case .literal: throw unexpected("a comparison after the literal")
            }
        }
    }

    /// The parenthesised literal list of IN.
    private mutating func list() throws(CartoError) -> [JSONValue] {
        guard current.isSymbol("(") else { throw unexpected("`(` and a list of literals after IN") }
        advance()
        if current.isWord("select") { throw unsupported("subqueries", "IN takes a list of literals") }
        var items: [JSONValue] = []
        while true {
            guard case .literal(let v) = try operand() else {
                index -= 1
                throw fail("IN lists hold literals only (numbers, 'strings', TRUE, FALSE, NULL), found \(current.shown)")
            }
            items.append(v)
            if items.count > SQLParser.maxListItems { throw fail("an IN list holds at most \(SQLParser.maxListItems) values") }
            if current.isSymbol(",") {
                advance()
                continue
            }
            guard current.isSymbol(")") else { throw unexpected("`,` or `)` in the IN list") }
            advance()
            return items
        }
    }

    /// A column or a literal; a following `::`, arithmetic or concatenation operator is refused here.
    private mutating func operand() throws(CartoError) -> SQLOperand {
        let value: SQLOperand
        switch current.kind {
        case .number(let text):
            value = .literal(try number(text))
            advance()
        case .symbol(let s) where s == "-" || s == "+":
            guard case .number(let text) = tokens[index + 1].kind else { throw unsupported("the operator `\(s)`", "arithmetic is not part of the subset") }
            advance()
            let n = try number(text)
            advance()
            switch (s, n) {
            case ("-", .int(let i)): value = .literal(.int(-i))
            case ("-", .double(let d)): value = .literal(.double(-d))
            default: value = .literal(n)
            }
        case .string(let s):
            advance()
            value = .literal(.string(s))
        case .word("true"), .word("false"), .word("null"):
            value = .literal(current.isWord("null") ? .null : .bool(current.isWord("true")))
            advance()
        default:
            let name = try columnName(purpose: "a column or a literal")
            if name == "the_geom" || name == "the_geom_webmercator" {
                throw CartoError("geometry columns (`\(name)`) cannot be used in conditions: the subset filters on attributes, the feature id (`cartodb_id`) and nothing else", at: tokens[index - 1].position)
            }
            value = .column(name)
        }
        if case .symbol(let s) = current.kind {
            switch s {
            case "::": throw unsupported("type casts (`::`)", "literals and columns are compared as they are")
            case "+", "-", "*", "/", "%", "^", "||", "~", "!~", "~~", "->", "@>", "<@", "&&", "|", "&", "#", "@", "?", "[":
                throw unsupported("the operator `\(s)`", "conditions use = <> != < <= > >= IN LIKE IS NULL AND OR NOT")
            default: break
            }
        }
        return value
    }

    /// An integer literal stays an integer (so `cartodb_id = 3` matches id 3 exactly); others are doubles.
    private func number(_ text: String) throws(CartoError) -> JSONValue {
        if let i = Int64(text) { return .int(i) }
        guard let d = Double(text), d.isFinite else { throw fail("the number \(text) is out of range") }
        return .double(d)
    }

    private func fail(_ message: String) -> CartoError { CartoError(message, at: current.position) }

    private func unexpected(_ expected: String) -> CartoError {
        if case .word(let w) = current.kind, let name = SQLParser.refused[w] {
            return unsupported(name, "\(SQLParser.shape)")
        }
        if current.isSymbol("::") { return unsupported("type casts (`::`)", "literals and columns are compared as they are") }
        return fail("expected \(expected) but found \(current.shown)")
    }

    private func unsupported(_ construct: String, _ hint: String) -> CartoError {
        CartoError("\(construct) is not supported in layer SQL (layer groups are views over tilesets, not a database); \(hint)", at: current.position)
    }
}
