@testable import Tiling
import XCTest

final class ClippingTests: XCTestCase {
    private func w(_ x: Double, _ y: Double) -> WorldPoint { WorldPoint(x: x, y: y) }
    private let box = ClipRect(minX: 0, minY: 0, maxX: 10, maxY: 10)

    private func area(_ polys: [[[WorldPoint]]]) -> Double {
        polys.reduce(0) { $0 + $1.reduce(0) { $0 + PolygonClipper.area2($1) } } / 2
    }

    func testConcavePolygonLeavingAndReenteringBecomesSeparatePolygons() {
        // A "U" whose two arms cross the top edge: Sutherland–Hodgman would give one ring
        // with a zero-width bridge along y = 0; we must get two separate rectangles.
        let u = [w(1, -5), w(4, -5), w(4, 5), w(6, 5), w(6, -5), w(9, -5), w(9, 8), w(1, 8)]
        let out = PolygonClipper.clip([u], to: box)
        XCTAssertEqual(out.count, 1, "the U's base is inside, so it stays one polygon")
        XCTAssertEqual(area(out), 8 * 8 - 2 * 5, accuracy: 1e-4)
        let n = [w(1, 15), w(4, 15), w(4, 5), w(6, 5), w(6, 15), w(9, 15), w(9, -2), w(1, -2)].reversed()
        let upsideDown = [w(1, -5), w(9, -5), w(9, 5), w(6, 5), w(6, -2), w(4, -2), w(4, 5), w(1, 5)]
        XCTAssertGreaterThan(area(PolygonClipper.clip([Array(n)], to: box)), 0)
        // Arms hanging down through the top edge with the base outside: two pieces.
        let comb = [w(1, -5), w(9, -5), w(9, 5), w(6, 5), w(6, -1), w(4, -1), w(4, 5), w(1, 5)]
        let pieces = PolygonClipper.clip([comb], to: box)
        XCTAssertEqual(pieces.count, 2, "\(pieces)")
        XCTAssertEqual(area(pieces), 2 * (3 * 5), accuracy: 1e-4)
        XCTAssertEqual(area(PolygonClipper.clip([upsideDown], to: box)), 2 * 3 * 5, accuracy: 1e-4)
    }

    func testBoxInsidePolygonBecomesTheBox() {
        let big = [w(-5, -5), w(15, -5), w(15, 15), w(-5, 15)]
        let out = PolygonClipper.clip([big], to: box)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(area(out), 100, accuracy: 1e-4)
        // ... unless the box sits in a hole.
        let hole = [w(-1, -1), w(11, -1), w(11, 11), w(-1, 11)]
        XCTAssertTrue(PolygonClipper.clip([big, hole], to: box).isEmpty)
    }

    func testHoleCrossingTheEdgeBecomesANotch() {
        let big = [w(-5, -5), w(15, -5), w(15, 15), w(-5, 15)]
        let hole = [w(3, -2), w(7, -2), w(7, 4), w(3, 4)]
        let out = PolygonClipper.clip([big, hole], to: box)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].count, 1, "the hole opens onto the edge and becomes part of the exterior")
        XCTAssertEqual(area(out), 100 - 4 * 4, accuracy: 1e-4)
        let inner = [w(3, 3), w(7, 3), w(7, 6), w(3, 6)]
        let withInnerHole = PolygonClipper.clip([big, inner], to: box)
        XCTAssertEqual(withInnerHole[0].count, 2, "a hole fully inside stays a hole")
        XCTAssertEqual(area(withInnerHole), 100 - 12, accuracy: 1e-4)
    }

    func testDisjointAndInsidePolygons() {
        XCTAssertTrue(PolygonClipper.clip([[w(20, 20), w(30, 20), w(30, 30)]], to: box).isEmpty)
        let tri = [w(2, 2), w(8, 2), w(5, 8)]
        XCTAssertEqual(area(PolygonClipper.clip([tri], to: box)), 18, accuracy: 1e-9)
    }

    func testLineClippingSplitsAtExits() {
        let line = [w(-5, 5), w(5, 5), w(5, 15), w(8, 15), w(8, 5), w(15, 5)]
        let parts = Clipper.clipLine(line, to: box)
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts[0].first, w(0, 5))
        XCTAssertEqual(parts[1].last, w(10, 5))
    }
}

final class PolygonRepairTests: XCTestCase {
    private func p(_ x: Int32, _ y: Int32) -> TilePoint { TilePoint(x: x, y: y) }

    func testSpikesAndRepeatsAreRemoved() {
        let ring = [p(0, 0), p(10, 0), p(10, 10), p(10, 20), p(10, 10), p(0, 10), p(0, 10)]
        let out = PolygonRepair.repair([[ring]])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(Set(out[0][0]), Set([p(0, 0), p(10, 0), p(10, 10), p(0, 10)]))
        XCTAssertNil(PolygonRepair.findProblem(out))
    }

    func testSelfTouchingRingIsSplit() {
        // Figure eight touching at (10, 10).
        let eight = [p(0, 0), p(10, 0), p(10, 10), p(20, 10), p(20, 20), p(10, 20), p(10, 10), p(0, 10)]
        XCTAssertNotNil(PolygonRepair.findProblem(PolygonRepair.normalize([[eight]])))
        let out = PolygonRepair.repair([[eight]])
        XCTAssertEqual(out.count, 2)
        XCTAssertNil(PolygonRepair.findProblem(out))
        XCTAssertEqual(out.reduce(0) { $0 + MVTGeometry.signedArea2($1[0]) }, 2 * 200)
    }

    func testBowTieIsSplitAtTheCrossing() {
        let bow = [p(0, 0), p(10, 10), p(10, 0), p(0, 10)]
        let out = PolygonRepair.repair([[bow]])
        XCTAssertNil(PolygonRepair.findProblem(out))
        XCTAssertEqual(out.count, 2)
        for poly in out { XCTAssertGreaterThan(MVTGeometry.signedArea2(poly[0]), 0) }
    }

    func testOverlappingPartsAndStrayHoles() {
        let big = [p(0, 0), p(10, 0), p(10, 10), p(0, 10)]
        let overlapping = [p(5, 5), p(15, 5), p(15, 15), p(5, 15)]
        let out = PolygonRepair.repair([[big], [overlapping]])
        XCTAssertEqual(out.count, 1, "of two overlapping polygons, one is dropped")
        let island = [p(2, 2), p(4, 2), p(4, 4), p(2, 4)]
        XCTAssertEqual(PolygonRepair.repair([[big], [island]]).count, 1, "a polygon inside another is dropped")
        let stray = [p(20, 20), p(22, 20), p(22, 22), p(20, 22)]
        let fixed = PolygonRepair.repair([[big, stray.reversed()]])
        XCTAssertEqual(fixed[0].count, 1, "a hole outside its exterior is dropped")
        let hole = [p(2, 2), p(2, 4), p(4, 4), p(4, 2)]
        XCTAssertEqual(PolygonRepair.repair([[big, hole]])[0].count, 2, "a proper hole is kept")
        let touching = [p(0, 0), p(5, 2), p(5, 5), p(2, 5)]
        XCTAssertEqual(PolygonRepair.repair([[big, touching]])[0].count, 2, "a hole may touch its exterior at one point")
    }
}
