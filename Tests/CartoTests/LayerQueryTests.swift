import Carto
import GeoModel
import Tiling
import XCTest

final class LayerQueryTests: XCTestCase {
    /// Features for the filters: a row per feature, with NULLs as missing properties.
    let rows: [(id: Int64, props: JSONObject)] = [
        (1, JSONObject([.init(key: "name", value: .string("France")), .init(key: "pop", value: .int(67)), .init(key: "continent", value: .string("Europe"))])),
        (2, JSONObject([.init(key: "name", value: .string("Chad")), .init(key: "pop", value: .double(17.5)), .init(key: "continent", value: .string("Africa"))])),
        (3, JSONObject([.init(key: "name", value: .string("it's")), .init(key: "pop", value: .int(0))])),
        (4, JSONObject([.init(key: "name", value: .string("Fiji")), .init(key: "continent", value: .string("Oceania")), .init(key: "island", value: .bool(true))])),
        (5, JSONObject([.init(key: "NAME", value: .string("upper")), .init(key: "island", value: .bool(false))])),
    ]

    /// The ids of the rows the query selects.
    func ids(_ sql: String, file: StaticString = #filePath, line: UInt = #line) -> [Int64] {
        do {
            let q = try LayerQuery.parse(sql)
            return rows.filter { q.selects(ExpressionContext(properties: $0.props, id: .int($0.id), geometryType: "Polygon", zoom: 3)) }.map(\.id)
        } catch {
            XCTFail("\(sql.prefix(80)): \(error.message)", file: file, line: line)
            return []
        }
    }

    func refusal(_ sql: String, file: StaticString = #filePath, line: UInt = #line) -> CartoError? {
        do {
            let q = try LayerQuery.parse(sql)
            XCTFail("accepted \(sql) as \(q)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testSelectShapes() throws {
        let all = try LayerQuery.parse("select * from countries")
        XCTAssertEqual(all.source, "countries")
        XCTAssertNil(all.columns)
        XCTAssertNil(all.filter)
        let some = try LayerQuery.parse("SELECT cartodb_id, the_geom, the_geom_webmercator, \"NAME\", pop FROM \"World-Countries.v2\";")
        XCTAssertEqual(some.source, "World-Countries.v2")
        XCTAssertEqual(some.columns, ["cartodb_id", "the_geom", "the_geom_webmercator", "NAME", "pop"])
        XCTAssertEqual(some.referencedColumns, ["cartodb_id", "the_geom", "the_geom_webmercator", "NAME", "pop"])
        XCTAssertEqual(try LayerQuery.parse("SeLeCt * FrOm Countries WhErE pop > 1").source, "countries", "unquoted names fold to lower case")
        XCTAssertEqual(try LayerQuery.parse("select * from a where pop > 1"), try LayerQuery.parse("SELECT *\n  FROM a\n WHERE (pop > 1) ;  "))
    }

    func testComparisons() {
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop = 67"), [1])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop = 67.0"), [1], "numbers compare by value")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop <> 67"), [2, 3], "NULL <> 67 is unknown, not true")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop != 67"), [2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop < 17.5"), [3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop <= 17.5"), [2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop > 17.5"), [1])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop >= 17.5"), [1, 2])
        XCTAssertEqual(ids("SELECT * FROM t WHERE -1 < pop"), [1, 2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop > -.5e1"), [1, 2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name = 'it''s'"), [3], "'' is a quote inside a string")
        XCTAssertEqual(ids("SELECT * FROM t WHERE name >= 'F'"), [1, 3, 4])
        XCTAssertEqual(ids("SELECT * FROM t WHERE cartodb_id = 4"), [4], "cartodb_id is the feature id")
        XCTAssertEqual(ids("SELECT * FROM t WHERE \"NAME\" = 'upper'"), [5], "quoted names keep their case")
        XCTAssertEqual(ids("SELECT * FROM t WHERE NAME = 'upper'"), [], "unquoted names fold to lower case")
        XCTAssertEqual(ids("SELECT * FROM t WHERE island"), [4], "a boolean column alone is a condition")
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT island"), [5])
        XCTAssertEqual(ids("SELECT * FROM t WHERE island = false"), [5])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name = continent"), [], "column against column")
        XCTAssertEqual(ids("SELECT * FROM t WHERE true"), [1, 2, 3, 4, 5])
        XCTAssertEqual(ids("SELECT * FROM t WHERE NULL"), [])
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT NULL"), [], "NOT unknown is unknown")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop = NULL"), [], "= NULL is never true")
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT (pop = NULL)"), [])
    }

    func testCartodbIDFallsBackToTheProperty() throws {
        let q = try LayerQuery.parse("SELECT cartodb_id FROM t WHERE cartodb_id IN (7, 8)")
        let exported = JSONObject([.init(key: "cartodb_id", value: .int(7)), .init(key: "name", value: .string("x"))])
        XCTAssertTrue(q.selects(ExpressionContext(properties: exported, id: nil, geometryType: "Point", zoom: 0)), "no feature id: the property")
        XCTAssertFalse(q.selects(ExpressionContext(properties: exported, id: .int(3), geometryType: "Point", zoom: 0)), "the feature id wins")
        XCTAssertEqual(q.project(exported, id: nil), JSONObject([.init(key: "cartodb_id", value: .int(7))]))
    }

    func testNullSemantics() {
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop IS NULL"), [4, 5])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop IS NOT NULL"), [1, 2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT pop IS NULL"), [1, 2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT (pop > 10)"), [3], "NOT over unknown stays unknown (rows 4, 5)")
        // Row 4: pop NULL, continent Oceania. Row 3: pop 0, continent NULL.
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT (pop > 10 AND continent = 'Europe')"), [2, 3, 4], "unknown AND false is false")
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT (pop > 100 AND continent = 'Oceania')"), [1, 2, 3], "unknown AND true is unknown")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop > 10 OR continent = 'Oceania'"), [1, 2, 4], "unknown OR true is true")
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT (pop > 10 OR continent = 'Africa')"), [], "false OR unknown is unknown")
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT (pop < 10 OR continent = 'Africa')"), [1], "false OR false is false")
        XCTAssertEqual(ids("SELECT * FROM t WHERE continent NOT IN ('Europe')"), [2, 4], "NULL NOT IN is unknown")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop NOT IN (1, NULL)"), [], "NOT IN a list with NULL is never true")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop IN (67, NULL)"), [1])
        XCTAssertEqual(ids("SELECT * FROM t WHERE continent NOT LIKE 'E%'"), [2, 4])
    }

    func testLikeAndIn() {
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE 'F%'"), [1, 4])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE 'f%'"), [], "LIKE is case-sensitive")
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE '_had'"), [2])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE '%a%'"), [1, 2])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE '%'"), [1, 2, 3, 4])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE 'it''_'"), [3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE 'F%e'"), [1])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE '%%i%j%'"), [4])
        XCTAssertEqual(ids("SELECT * FROM t WHERE name LIKE 'Fr\\%'"), [], "a backslash escapes %")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop LIKE '6%'"), [1], "numbers are matched as text")
        XCTAssertEqual(ids("SELECT * FROM t WHERE name ILIKE 'f%'"), [1, 4], "ILIKE ignores case")
        XCTAssertEqual(ids("SELECT * FROM t WHERE name NOT ILIKE 'F%'"), [2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE continent NOT ILIKE 'e%'"), [2, 4], "NULL NOT ILIKE is unknown")
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop ILIKE '6%'"), [1])
        XCTAssertEqual(ids("SELECT * FROM t WHERE continent IN ('Europe', 'Africa')"), [1, 2])
        XCTAssertEqual(ids("SELECT * FROM t WHERE cartodb_id IN (1, 3, 5)"), [1, 3, 5])
        XCTAssertEqual(ids("SELECT * FROM t WHERE pop IN (17.5, 0)"), [2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE cartodb_id NOT IN (1, 3, 5)"), [2, 4])
    }

    func testPrecedence() {
        // AND binds tighter than OR: a OR (b AND c).
        XCTAssertEqual(ids("SELECT * FROM t WHERE cartodb_id = 1 OR cartodb_id = 2 AND pop > 100"), [1])
        XCTAssertEqual(ids("SELECT * FROM t WHERE (cartodb_id = 1 OR cartodb_id = 2) AND pop > 100"), [])
        // NOT binds tighter than AND and looser than comparisons.
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT cartodb_id = 1 AND pop IS NOT NULL"), [2, 3])
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT (cartodb_id = 1 AND pop IS NOT NULL)"), [2, 3, 4, 5])
        XCTAssertEqual(ids("SELECT * FROM t WHERE NOT NOT cartodb_id = 1"), [1])
        XCTAssertEqual(ids("SELECT * FROM t WHERE cartodb_id = 1 OR cartodb_id = 2 OR cartodb_id = 3 AND NOT pop = 0"), [1, 2])
        XCTAssertEqual(ids("SELECT * FROM t WHERE ((((cartodb_id = 4))))"), [4])
        XCTAssertEqual(ids("SELECT * FROM t WHERE cartodb_id >= 2 and cartodb_id <= 4 and not cartodb_id = 3"), [2, 4])
    }

    func testProjection() throws {
        let props = rows[0].props
        let star = try LayerQuery.parse("SELECT * FROM t")
        XCTAssertEqual(star.project(props, id: .int(1)).keys, ["name", "pop", "continent", "cartodb_id"])
        XCTAssertEqual(star.project(props, id: nil), props)
        let listed = try LayerQuery.parse("SELECT pop, the_geom, cartodb_id, missing, name FROM t")
        XCTAssertEqual(listed.project(props, id: .int(1)), JSONObject([.init(key: "pop", value: .int(67)), .init(key: "cartodb_id", value: .int(1)), .init(key: "name", value: .string("France"))]))
        XCTAssertEqual(try LayerQuery.parse("SELECT the_geom_webmercator FROM t").project(props, id: .int(1)), JSONObject())
    }

    func testRefusedConstructsNameThemselvesAndTheirPosition() throws {
        RefusalCase.check([
            RefusalCase("SELECT * FROM t; DROP TABLE t", "only one statement", 1, 18),
            RefusalCase("SELECT * FROM t WHERE a = 1; DROP TABLE t;", "only one statement", 1, 30),
            RefusalCase("SELECT * FROM (SELECT * FROM t) q", "subqueries", 1, 15),
            RefusalCase("SELECT * FROM t WHERE a IN (SELECT b FROM u)", "subqueries", 1, 29),
            RefusalCase("SELECT * FROM t WHERE (SELECT 1) = 1", "subqueries", 1, 24),
            RefusalCase("SELECT upper(name) FROM t", "function calls (`upper(…)`)", 1, 8),
            RefusalCase("SELECT * FROM t WHERE upper(name) = 'X'", "function calls (`upper(…)`)", 1, 23),
            RefusalCase("SELECT * FROM t ORDER BY name", "ORDER BY", 1, 17),
            RefusalCase("SELECT * FROM t WHERE a = 1 ORDER BY name", "ORDER BY", 1, 29),
            RefusalCase("SELECT * FROM t GROUP BY name", "GROUP BY", 1, 17),
            RefusalCase("SELECT * FROM t LIMIT 10", "LIMIT", 1, 17),
            RefusalCase("SELECT * FROM t UNION SELECT * FROM u", "UNION", 1, 17),
            RefusalCase("SELECT * FROM t JOIN u ON t.a = u.a", "JOIN", 1, 17),
            RefusalCase("SELECT * FROM t, u", "several tables", 1, 16),
            RefusalCase("SELECT * FROM public.t", "schema-qualified", 1, 21),
            RefusalCase("SELECT * FROM t WHERE a::int = 1", "type casts (`::`)", 1, 24),
            RefusalCase("SELECT * FROM t WHERE a = 1 -- comment", "comments", 1, 29),
            RefusalCase("SELECT * FROM t /* x */", "comments", 1, 17),
            RefusalCase("SELECT * FROM t WHERE a + 1 = 2", "the operator `+`", 1, 25),
            RefusalCase("SELECT * FROM t WHERE a || 'x' = 'y'", "the operator `||`", 1, 25),
            RefusalCase("SELECT * FROM t WHERE a BETWEEN 1 AND 2", "BETWEEN", 1, 25),
            RefusalCase("SELECT * FROM t WHERE a SIMILAR TO 'x'", "SIMILAR TO", 1, 25),
            RefusalCase("SELECT name AS n FROM t", "aliases (AS)", 1, 13),
            RefusalCase("SELECT DISTINCT name FROM t", "DISTINCT", 1, 8),
            RefusalCase("SELECT *, name FROM t", "columns after `*`", 1, 9),
            RefusalCase("DELETE FROM t", "DELETE", 1, 1),
            RefusalCase("WITH x AS (SELECT 1) SELECT * FROM x", "WITH", 1, 1),
            RefusalCase("SELECT * FROM t WHERE the_geom = 1", "geometry columns", 1, 23),
            RefusalCase("SELECT * FROM t WHERE a = $1", "`$`", 1, 27),
            RefusalCase("SELECT * FROM t WHERE a = 'open", "unterminated string", 1, 27),
            RefusalCase("SELECT * FROM t WHERE a = 1 = 2", "cannot be chained", 1, 29),
            RefusalCase("SELECT * FROM t WHERE a IS TRUE", "IS NULL or IS NOT NULL", 1, 28),
            RefusalCase("SELECT * FROM t WHERE a IN (b)", "literals only", 1, 29),
            RefusalCase("SELECT * FROM t WHERE 5", "a comparison after the literal", 1, 24),
            RefusalCase("SELECT * FROM t\nWHERE a = 1\n  AND b > 1e999", "out of range", 3, 11),
            RefusalCase("SELECT * FROM t WHERE a = 12abc", "malformed number", 1, 27),
            RefusalCase("SELECT * FROM t WHERE (a = 1", "`)` to close", 1, 29),
            RefusalCase("SELECT * FROM t WHERE", "a column or a literal", 1, 22),
            RefusalCase("", "expected SELECT", 1, 1),
        ]) { (text: String) throws(CartoError) in _ = try LayerQuery.parse(text) }
        XCTAssertTrue(try XCTUnwrap(refusal("SELECT * FROM t ORDER BY a")).message.contains("not a database"))
    }

    func testHostileSizesAreRefusedQuickly() throws {
        let deep = "SELECT * FROM t WHERE " + String(repeating: "(", count: 10_000) + "a = 1" + String(repeating: ")", count: 10_000)
        let e = try XCTUnwrap(refusal(deep))
        XCTAssertTrue(e.message.contains("deeper than 100"), e.message)
        XCTAssertEqual(e.column, 23 + 100)
        let nots = try XCTUnwrap(refusal("SELECT * FROM t WHERE " + String(repeating: "NOT ", count: 10_000) + "a"))
        XCTAssertTrue(nots.message.contains("deeper than 100"), nots.message)
        XCTAssertEqual(ids("SELECT * FROM t WHERE " + String(repeating: "(", count: 100) + "cartodb_id = 2" + String(repeating: ")", count: 100)), [2])
        let huge = "SELECT * FROM t WHERE " + String(repeating: "a = 1 OR ", count: 120_000) + "a = 2"
        let big = try XCTUnwrap(refusal(huge))
        XCTAssertNil(big.line)
        XCTAssertTrue(big.message.contains("at most 65536 bytes"), big.message)
        let list = "SELECT * FROM t WHERE a IN (" + (0...10_000).map(String.init).joined(separator: ",") + ")"
        XCTAssertTrue(try XCTUnwrap(refusal(list)).message.contains("at most 10000 values"))
        // A long flat chain inside the size cap parses without recursion and selects correctly.
        let chain = "SELECT * FROM t WHERE " + stride(from: 0, to: 6_000, by: 2).map { "cartodb_id=\($0)" }.joined(separator: " OR ")
        XCTAssertEqual(ids(chain), [2, 4])
    }
}
