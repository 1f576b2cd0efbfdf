import GeoModel
import Tiling

/// A SQL predicate compiled to two expressions, "is true" and "is false", so that SQL's
/// three-valued logic runs on the two-valued expression engine.
///
/// A predicate over NULL is neither true nor false (unknown): `x <> 1` does not select a
/// feature without `x`, and neither does `NOT (x = 1)`. Keeping both sides makes `NOT` a swap
/// and gives AND/OR their Kleene truth tables: `P AND Q` is false when either side is false,
/// `P OR Q` is false only when both are. Only `whenTrue` of the whole WHERE is evaluated.
struct SQLCondition: Sendable, Equatable {
    var whenTrue: Expression
    var whenFalse: Expression

    static let never = Expression.literal(.bool(false))
    static let always = Expression.literal(.bool(true))

    /// A constant: `TRUE`, `FALSE`, or unknown (`NULL`: neither).
    static func constant(_ value: Bool?) -> SQLCondition {
        SQLCondition(whenTrue: value == true ? always : never, whenFalse: value == false ? always : never)
    }

    var negated: SQLCondition { SQLCondition(whenTrue: whenFalse, whenFalse: whenTrue) }

    static func and(_ parts: [SQLCondition]) -> SQLCondition {
        parts.count == 1 ? parts[0] : SQLCondition(whenTrue: all(parts.map(\.whenTrue)), whenFalse: any(parts.map(\.whenFalse)))
    }

    static func or(_ parts: [SQLCondition]) -> SQLCondition {
        parts.count == 1 ? parts[0] : SQLCondition(whenTrue: any(parts.map(\.whenTrue)), whenFalse: all(parts.map(\.whenFalse)))
    }

    /// `a op b` for `=`, `<>`, `<`, `<=`, `>`, `>=`: known only when neither side is NULL.
    static func compare(_ op: String, _ a: SQLOperand, _ b: SQLOperand) -> SQLCondition {
        let opposite = ["=": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"]
        let mapped = op == "=" ? "==" : op
        return known([a, b], whenTrue: .call(mapped, [a.expression, b.expression]),
                     whenFalse: .call(opposite[op]!, [a.expression, b.expression]))
    }

    /// `a IN (…)`; with a NULL in the list the answer is never false (SQL: `1 NOT IN (2, NULL)` is unknown).
    static func isIn(_ a: SQLOperand, _ items: [JSONValue]) -> SQLCondition {
        let values = items.filter { $0 != .null }
        let test = Expression.call("in", [a.expression, .literal(.array(values))])
        let c = known([a], whenTrue: test, whenFalse: .call("!", [test]))
        return values.count == items.count ? c : SQLCondition(whenTrue: c.whenTrue, whenFalse: never)
    }

    /// `a LIKE pattern`, or `ILIKE` (both sides lower-cased first) with `caseInsensitive`.
    static func like(_ a: SQLOperand, _ pattern: SQLOperand, caseInsensitive: Bool = false) -> SQLCondition {
        func side(_ o: SQLOperand) -> Expression {
            caseInsensitive ? .call("downcase", [.call("to-string", [o.expression])]) : o.expression
        }
        let test = Expression.call("like", [side(a), side(pattern)])
        return known([a, pattern], whenTrue: test, whenFalse: .call("!", [test]))
    }

    /// `a IS NULL`: always known.
    static func isNull(_ a: SQLOperand) -> SQLCondition {
        SQLCondition(whenTrue: .call("==", [a.expression, .literal(.null)]), whenFalse: .call("!=", [a.expression, .literal(.null)]))
    }

    /// A boolean column or literal used alone as a condition (`WHERE visible`).
    static func truth(_ a: SQLOperand) -> SQLCondition {
        if case .literal(let v) = a { return constant(v == .null ? nil : v == .bool(true)) }
        return SQLCondition(whenTrue: .call("==", [a.expression, .literal(.bool(true))]),
                            whenFalse: .call("==", [a.expression, .literal(.bool(false))]))
    }

    /// `whenTrue`/`whenFalse` guarded so that neither holds while an operand is NULL.
    private static func known(_ operands: [SQLOperand], whenTrue: Expression, whenFalse: Expression) -> SQLCondition {
        var guards: [Expression] = []
        for o in operands {
            switch o {
            case .literal(.null): return constant(nil)
            case .literal: continue
            case .column: guards.append(.call("!=", [o.expression, .literal(.null)]))
            }
        }
        return SQLCondition(whenTrue: all(guards + [whenTrue]), whenFalse: all(guards + [whenFalse]))
    }

    private static func all(_ parts: [Expression]) -> Expression { parts.count == 1 ? parts[0] : .call("all", parts) }
    private static func any(_ parts: [Expression]) -> Expression { parts.count == 1 ? parts[0] : .call("any", parts) }
}

/// A value in a predicate: a column of the feature or a literal.
enum SQLOperand: Sendable, Equatable {
    /// A property name; `cartodb_id` stands for the feature id (or, for a feature without
    /// one, its `cartodb_id` property, as data exported from CARTO carries).
    case column(String)
    case literal(JSONValue)

    var expression: Expression {
        switch self {
        case .column("cartodb_id"): .call("coalesce", [.call("id", []), .call("get", [.literal(.string("cartodb_id"))])])
        case .column(let name): .call("get", [.literal(.string(name))])
        case .literal(let v): .literal(v)
        }
    }
}
