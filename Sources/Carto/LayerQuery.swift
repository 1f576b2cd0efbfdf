import GeoModel
import Tiling

/// A CARTO layer's SQL, read as a view over one tileset: which source, which columns, which features.
///
/// Layer groups are views over published tilesets, not a database, so only the shape CARTO
/// maps use for layers is accepted: `SELECT * | col, … FROM name [WHERE condition]` (see
/// `SQLParser` for the grammar). The WHERE clause compiles to a Tiling `Expression` with SQL's
/// NULL semantics (`SQLCondition`) and runs on each decoded feature at serve time. Anything
/// outside the subset — a second statement, subqueries, function calls, joins, GROUP BY,
/// ORDER BY, LIMIT, casts, comments — is refused with a `CartoError` naming it and its
/// position, never ignored.
///
/// Unquoted names are folded to lower case, as PostgreSQL does; double-quote a name to keep
/// its case (`"NAME"`). CARTO's own columns: `cartodb_id` is the feature id; `the_geom` and
/// `the_geom_webmercator` may be selected (the geometry is always kept) but not compared.
public struct LayerQuery: Sendable, Equatable {
    /// Longest accepted SQL text, in UTF-8 bytes.
    public static let maxLength = 64 * 1024

    /// The FROM name: a tileset or a map (the caller resolves it).
    public let source: String
    /// The selected columns in order, as written (nil: `SELECT *`).
    public let columns: [String]?
    /// The WHERE clause: a feature is selected when it evaluates to `true` (nil: every feature).
    public let filter: Expression?
    /// Every column the query names (select list and WHERE), in first-use order, so a caller
    /// can check them against the tileset's attributes.
    public let referencedColumns: [String]

    /// Parses `sql`, or throws a `CartoError` whose `description` names the problem and its position.
    public static func parse(_ sql: String) throws(CartoError) -> LayerQuery {
        guard sql.utf8.count <= maxLength else {
            throw CartoError("the layer SQL is \(sql.utf8.count) bytes; at most \(maxLength) bytes are accepted")
        }
        var parser = SQLParser(tokens: try SQLLexer.tokens(sql))
        let q = try parser.query()
        return LayerQuery(source: q.source, columns: q.columns, filter: q.filter?.whenTrue, referencedColumns: parser.referenced)
    }

    /// True when the WHERE clause holds for the feature (true if there is none).
    public func selects(_ c: ExpressionContext) -> Bool { filter?.test(c) ?? true }

    /// The properties the query outputs for a feature: all of them for `SELECT *`, else the
    /// listed columns that the feature has, in select-list order. `cartodb_id` (listed, or
    /// implied by `*`) is the feature id when there is one; geometry columns add nothing.
    public func project(_ properties: JSONObject, id: JSONValue?) -> JSONObject {
        guard let columns else {
            var out = properties
            if let id, id != .null, properties["cartodb_id"] == nil { out["cartodb_id"] = id }
            return out
        }
        var out = JSONObject(capacity: columns.count)
        for name in columns where out[name] == nil {
            switch name {
            case "the_geom", "the_geom_webmercator": continue
            case "cartodb_id": if let v = id ?? properties[name], v != .null { out[name] = v }
            default: if let v = properties[name] { out[name] = v }
            }
        }
        return out
    }
}
