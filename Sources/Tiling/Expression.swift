import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// What an expression is evaluated against: one feature at one zoom.
public struct ExpressionContext {
    public var properties: JSONObject
    public var id: JSONValue?
    /// "Point", "LineString" or "Polygon" (Mapbox GL `geometry-type`).
    public var geometryType: String
    public var zoom: Double

    public init(properties: JSONObject, id: JSONValue?, geometryType: String, zoom: Double) {
        self.properties = properties
        self.id = id
        self.geometryType = geometryType
        self.zoom = zoom
    }
}

/// A parsed Mapbox GL style expression, the subset MTS recipes use.
///
/// Parsing checks operator names and arities up front and reports errors with the path into
/// the recipe (`layers.roads.features.filter[1]`), so `validate-recipe` catches them before
/// any tiling starts. Evaluation never throws: type mismatches yield `null` or `false`, like
/// Mapbox GL's runtime does for filters.
///
/// One operator is tiledrop's own, for the CARTO SQL subset: `["like", value, pattern]`, SQL
/// `LIKE` over the text of both values (null when either is null, so `NOT` over it stays
/// unknown as in SQL).
public indirect enum Expression: Sendable, Equatable {
    case literal(JSONValue)
    case call(String, [Expression])
    /// `match`: input, (labels, output) pairs, fallback.
    case match(Expression, [([JSONValue], Expression)], Expression)

    static let arities: [String: ClosedRange<Int>] = [
        "get": 1...1, "has": 1...1, "id": 0...0, "zoom": 0...0, "geometry-type": 0...0, "properties": 0...0,
        "==": 2...2, "!=": 2...2, "<": 2...2, "<=": 2...2, ">": 2...2, ">=": 2...2,
        "all": 0...Int.max, "any": 0...Int.max, "!": 1...1, "case": 3...Int.max, "coalesce": 1...Int.max,
        "in": 2...2, "to-number": 1...Int.max, "to-string": 1...1, "to-boolean": 1...1, "number": 1...Int.max,
        "string": 1...Int.max, "boolean": 1...Int.max, "typeof": 1...1, "length": 1...1, "concat": 1...Int.max,
        "upcase": 1...1, "downcase": 1...1,
        "+": 1...Int.max, "*": 1...Int.max, "-": 1...2, "/": 2...2, "%": 2...2, "^": 2...2,
        "abs": 1...1, "min": 1...Int.max, "max": 1...Int.max, "round": 1...1, "floor": 1...1, "ceil": 1...1,
        "sqrt": 1...1, "ln": 1...1, "log10": 1...1,
        "like": 2...2,
    ]

    /// Parses `json` (a literal or an `[operator, args…]` array); `path` names its place in the recipe.
    public static func parse(_ json: JSONValue, path: String) throws(TilingError) -> Expression {
        var errors: [String] = []
        let e = parse(json, path: path, errors: &errors)
        if !errors.isEmpty { throw .invalidRecipe(errors: errors) }
        return e
    }

    static func parse(_ json: JSONValue, path: String, errors: inout [String]) -> Expression {
        guard case .array(let items) = json else {
            if case .object = json { errors.append("\(path): objects are not expressions; wrap literal objects in [\"literal\", …]") }
            return .literal(json)
        }
        guard let op = items.first?.stringValue else {
            errors.append("\(path): an expression array must start with an operator name; wrap literal arrays in [\"literal\", …]")
            return .literal(.null)
        }
        let args = Array(items.dropFirst())
        if op == "literal" {
            guard args.count == 1 else {
                errors.append("\(path): \"literal\" expects exactly 1 argument, found \(args.count)")
                return .literal(.null)
            }
            return .literal(args[0])
        }
        if op == "match" {
            guard args.count >= 4, args.count % 2 == 0 else {
                errors.append("\(path): \"match\" expects an input, label/output pairs and a fallback, found \(args.count) arguments")
                return .literal(.null)
            }
            let input = parse(args[0], path: "\(path)[1]", errors: &errors)
            var branches: [([JSONValue], Expression)] = []
            var i = 1
            while i < args.count - 1 {
                let labels: [JSONValue]
                switch args[i] {
                case .array(let ls): labels = ls
                case .string, .int, .double: labels = [args[i]]
                default:
                    errors.append("\(path)[\(i + 1)]: match labels must be strings, numbers or arrays of them")
                    labels = []
                }
                branches.append((labels, parse(args[i + 1], path: "\(path)[\(i + 2)]", errors: &errors)))
                i += 2
            }
            return .match(input, branches, parse(args[args.count - 1], path: "\(path)[\(args.count)]", errors: &errors))
        }
        guard let arity = arities[op] else {
            errors.append("\(path): unknown expression operator \"\(op)\"")
            return .literal(.null)
        }
        guard arity.contains(args.count) else {
            let expected = arity.upperBound == Int.max ? "at least \(arity.lowerBound)" : arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
            errors.append("\(path): \"\(op)\" expects \(expected) argument\(expected == "1" ? "" : "s"), found \(args.count)")
            return .literal(.null)
        }
        if op == "case" && args.count % 2 == 0 {
            errors.append("\(path): \"case\" expects condition/output pairs and a fallback, found \(args.count) arguments")
        }
        return .call(op, args.enumerated().map { parse($1, path: "\(path)[\($0 + 1)]", errors: &errors) })
    }

    /// Structural equality: the same operators over the same literals.
    public static func == (a: Expression, b: Expression) -> Bool {
        switch (a, b) {
        case (.literal(let x), .literal(let y)): x == y
        case (.call(let o1, let a1), .call(let o2, let a2)): o1 == o2 && a1 == a2
        case (.match(let i1, let b1, let f1), .match(let i2, let b2, let f2)):
            i1 == i2 && f1 == f2 && b1.count == b2.count && zip(b1, b2).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// True when the value depends on the zoom (so it cannot be computed once per feature).
    public var usesZoom: Bool {
        switch self {
        case .literal: false
        case .call(let op, let args): op == "zoom" || args.contains { $0.usesZoom }
        case .match(let input, let branches, let fallback): input.usesZoom || fallback.usesZoom || branches.contains { $0.1.usesZoom }
        }
    }

    /// True when the value depends on the feature (its attributes, id or geometry type), so
    /// it cannot be computed once per zoom level.
    public var usesFeature: Bool {
        switch self {
        case .literal: false
        case .call(let op, let args): ["get", "has", "id", "properties", "geometry-type"].contains(op) || args.contains { $0.usesFeature }
        case .match(let input, let branches, let fallback): input.usesFeature || fallback.usesFeature || branches.contains { $0.1.usesFeature }
        }
    }

    public func evaluate(_ c: ExpressionContext) -> JSONValue {
        switch self {
        case .literal(let v): return v
        case .match(let input, let branches, let fallback):
            let v = input.evaluate(c)
            for (labels, out) in branches where labels.contains(where: { Expression.equal($0, v) }) { return out.evaluate(c) }
            return fallback.evaluate(c)
        case .call(let op, let a): return call(op, a, c)
        }
    }

    /// Evaluates as a filter: only `true` passes.
    public func test(_ c: ExpressionContext) -> Bool { evaluate(c) == .bool(true) }

    private func call(_ op: String, _ a: [Expression], _ c: ExpressionContext) -> JSONValue {
        func num(_ i: Int) -> Double? { a[i].evaluate(c).doubleValue }
        switch op {
        case "get": return a[0].evaluate(c).stringValue.flatMap { c.properties[$0] } ?? .null
        case "has": return .bool(a[0].evaluate(c).stringValue.map { c.properties[$0] != nil } ?? false)
        case "id": return c.id ?? .null
        case "zoom": return .double(c.zoom)
        case "geometry-type": return .string(c.geometryType)
        case "properties": return .object(c.properties)
        case "==": return .bool(Expression.equal(a[0].evaluate(c), a[1].evaluate(c)))
        case "!=": return .bool(!Expression.equal(a[0].evaluate(c), a[1].evaluate(c)))
        case "<", "<=", ">", ">=":
            let l = a[0].evaluate(c), r = a[1].evaluate(c)
            let order: Int
            if let x = l.doubleValue, let y = r.doubleValue {
                order = x < y ? -1 : x > y ? 1 : 0
            } else if let x = l.stringValue, let y = r.stringValue {
                order = x < y ? -1 : x > y ? 1 : 0
            } else {
                return .bool(false)
            }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "all": return .bool(a.allSatisfy { $0.test(c) })
        case "any": return .bool(a.contains { $0.test(c) })
        case "!": return .bool(a[0].evaluate(c) != .bool(true))
        case "case":
            var i = 0
            while i + 1 < a.count {
                if a[i].test(c) { return a[i + 1].evaluate(c) }
                i += 2
            }
            return a[a.count - 1].evaluate(c)
        case "coalesce":
            for e in a {
                let v = e.evaluate(c)
                if v != .null { return v }
            }
            return .null
        case "in":
            let needle = a[0].evaluate(c)
            switch a[1].evaluate(c) {
            case .array(let items): return .bool(items.contains { Expression.equal($0, needle) })
            case .string(let s): return .bool(needle.stringValue.map { $0.isEmpty || s.contains($0) } ?? false)
            default: return .bool(false)
            }
        case "to-number", "number":
            for e in a {
                let v = e.evaluate(c)
                switch v {
                case .int, .double: return v
                case .bool(let b) where op == "to-number": return .int(b ? 1 : 0)
                case .null where op == "to-number": return .int(0)
                case .string(let s) where op == "to-number": if let d = Double(s) { return .double(d) }
                default: break
                }
            }
            return .null
        case "string", "boolean":
            for e in a {
                let v = e.evaluate(c)
                if (op == "string" && v.stringValue != nil) || (op == "boolean" && v.boolValue != nil) { return v }
            }
            return .null
        case "like":
            let v = a[0].evaluate(c), pattern = a[1].evaluate(c)
            if v == .null || pattern == .null { return .null }
            return .bool(Expression.like(Array(Expression.string(v).unicodeScalars), Array(Expression.string(pattern).unicodeScalars)))
        case "to-string": return .string(Expression.string(a[0].evaluate(c)))
        case "to-boolean":
            switch a[0].evaluate(c) {
            case .null: return .bool(false)
            case .bool(let b): return .bool(b)
            case .string(let s): return .bool(!s.isEmpty)
            case .int(let i): return .bool(i != 0)
            case .double(let d): return .bool(d != 0 && !d.isNaN)
            default: return .bool(true)
            }
        case "typeof": return .string(a[0].evaluate(c).typeName)
        case "length":
            switch a[0].evaluate(c) {
            case .string(let s): return .int(Int64(s.count))
            case .array(let x): return .int(Int64(x.count))
            default: return .null
            }
        case "concat": return .string(a.map { Expression.string($0.evaluate(c)) }.joined())
        case "upcase": return a[0].evaluate(c).stringValue.map { .string($0.uppercased()) } ?? .null
        case "downcase": return a[0].evaluate(c).stringValue.map { .string($0.lowercased()) } ?? .null
        case "+", "*", "min", "max":
            var ints: [Int64] = [], allInt = true, doubles: [Double] = []
            for e in a {
                let v = e.evaluate(c)
                guard let d = v.doubleValue else { return .null }
                doubles.append(d)
                if case .int(let i) = v { ints.append(i) } else { allInt = false }
            }
            if allInt, op == "+" || op == "*" {
                var acc: Int64 = op == "+" ? 0 : 1
                var overflow = false
                for i in ints {
                    let (r, o) = op == "+" ? acc.addingReportingOverflow(i) : acc.multipliedReportingOverflow(by: i)
                    acc = r
                    overflow = overflow || o
                }
                if !overflow { return .int(acc) }
            }
            switch op {
            case "+": return .double(doubles.reduce(0, +))
            case "*": return .double(doubles.reduce(1, *))
            case "min": return Expression.number(doubles.min()!)
            default: return Expression.number(doubles.max()!)
            }
        case "-":
            if a.count == 1 { return num(0).map { Expression.number(-$0) } ?? .null }
            guard let x = num(0), let y = num(1) else { return .null }
            return Expression.number(x - y)
        case "/", "%", "^":
            guard let x = num(0), let y = num(1) else { return .null }
            switch op {
            case "/": return .double(x / y)
            case "%": return Expression.number(fmod(x, y))
            default: return Expression.number(pow(x, y))
            }
        case "abs", "round", "floor", "ceil", "sqrt", "ln", "log10":
            guard let x = num(0) else { return .null }
            switch op {
            case "abs": return Expression.number(Swift.abs(x))
            case "round": return Expression.number(x.rounded(.toNearestOrAwayFromZero))
            case "floor": return Expression.number(x.rounded(.down))
            case "ceil": return Expression.number(x.rounded(.up))
            case "sqrt": return .double(x.squareRoot())
            case "ln": return .double(log(x))
            default: return .double(log10(x))
            }
        default: return .null
        }
    }

    /// An integral result stays an integer (so `to-string` gives "3", not "3.0").
    static func number(_ d: Double) -> JSONValue {
        if d.isFinite, d == d.rounded(), Swift.abs(d) < 9e15 { return .int(Int64(d)) }
        return .double(d)
    }

    /// Equality with numbers compared by value (1 == 1.0), as Mapbox GL does.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }

    /// SQL `LIKE` (ISO 9075 §8.5): `%` matches any run of characters, `_` exactly one, a backslash
    /// escapes the next character; case-sensitive, and the whole text must match.
    ///
    /// Greedy matching with one backtrack point (the last `%`), so time is O(text × pattern)
    /// at worst, never exponential.
    static func like(_ text: [Unicode.Scalar], _ pattern: [Unicode.Scalar]) -> Bool {
        var t = 0, p = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case "%":
                    starP = p
                    starT = t
                    p += 1
                    continue
                case "_":
                    t += 1
                    p += 1
                    continue
                case "\\" where p + 1 < pattern.count:
                    if pattern[p + 1] == text[t] {
                        t += 1
                        p += 2
                        continue
                    }
                default:
                    if pattern[p] == text[t] {
                        t += 1
                        p += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            starT += 1
            t = starT
            p = starP + 1
        }
        while p < pattern.count, pattern[p] == "%" { p += 1 }
        return p == pattern.count
    }

    static func string(_ v: JSONValue) -> String {
        switch v {
        case .null: ""
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        default: JSONWriter.string(v)
        }
    }
}
