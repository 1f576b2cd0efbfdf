import XCTest
@testable import Storage

final class CartoStateTests: XCTestCase {
    func testLayerGroupsAreRecordedOnceTouchedAndPruned() throws {
        let db = try StateDatabase(path: ":memory:")
        try db.saveLayerGroup(LayerGroupRecord(id: "abc:1", config: "{}", created: 10, lastUsed: 10))
        // The same id again only refreshes last_used; the first config stays.
        try db.saveLayerGroup(LayerGroupRecord(id: "abc:1", config: "{\"x\":1}", created: 20, lastUsed: 20))
        XCTAssertEqual(try db.layerGroup(id: "abc:1"), LayerGroupRecord(id: "abc:1", config: "{}", created: 10, lastUsed: 20))
        try db.saveLayerGroup(LayerGroupRecord(id: "def:1", config: "{}", created: 5, lastUsed: 5))
        try db.touchLayerGroup(id: "def:1", now: 30)
        try db.touchLayerGroup(id: "def:1", now: 25)
        XCTAssertEqual(try db.layerGroup(id: "def:1")?.lastUsed, 30)
        XCTAssertEqual(try db.pruneLayerGroups(unusedSince: 25), 1)
        XCTAssertNil(try db.layerGroup(id: "abc:1"))
        XCTAssertEqual(try db.layerGroupCount(), 1)
    }

    func testNamedMapLifecycle() throws {
        let db = try StateDatabase(path: ":memory:")
        XCTAssertTrue(try db.insertNamedMap(NamedMapRecord(name: "b", template: "{1}", created: 1, updated: 1)))
        XCTAssertFalse(try db.insertNamedMap(NamedMapRecord(name: "b", template: "{2}", created: 2, updated: 2)))
        XCTAssertTrue(try db.insertNamedMap(NamedMapRecord(name: "a", template: "{3}", created: 3, updated: 3)))
        XCTAssertEqual(try db.namedMaps().map(\.name), ["a", "b"])
        XCTAssertEqual(try db.namedMap(name: "b")?.template, "{1}")
        XCTAssertTrue(try db.updateNamedMap(name: "b", template: "{4}", now: 9))
        XCTAssertFalse(try db.updateNamedMap(name: "zz", template: "{4}", now: 9))
        XCTAssertEqual(try db.namedMap(name: "b"), NamedMapRecord(name: "b", template: "{4}", created: 1, updated: 9))
        XCTAssertTrue(try db.deleteNamedMap(name: "b"))
        XCTAssertFalse(try db.deleteNamedMap(name: "b"))
        XCTAssertNil(try db.namedMap(name: "b"))
    }
}
