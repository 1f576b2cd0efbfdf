import GeoModel
@testable import Tiling
import XCTest

/// Issue 8: tiles built to overflow the decoder's arithmetic are rejected, never a trap.
final class MVTHostileTileTests: XCTestCase {
    private func p(_ x: Int32, _ y: Int32) -> TilePoint { TilePoint(x: x, y: y) }

    /// A command stream for one closed ring through `points` (deltas wrap like a hostile writer's).
    static func ring(_ points: [TilePoint]) -> [UInt32] {
        func zz(_ n: Int32) -> UInt32 { UInt32(bitPattern: (n << 1) ^ (n >> 31)) }
        var cmds: [UInt32] = [1 | 1 << 3]
        var cx: Int32 = 0, cy: Int32 = 0
        for (i, q) in points.enumerated() {
            if i == 1 { cmds.append(2 | UInt32(points.count - 1) << 3) }
            cmds += [zz(q.x &- cx), zz(q.y &- cy)]
            cx = q.x
            cy = q.y
        }
        return cmds + [7 | 1 << 3]
    }

    static let extremeTriangle = [TilePoint(x: .max, y: 0), TilePoint(x: 0, y: .max), TilePoint(x: .min, y: .min)]

    func testSignedAreaOfExtremeRingsDoesNotOverflow() {
        let cw = Self.extremeTriangle
        XCTAssertGreaterThan(MVTGeometry.signedArea2(cw), 0, "saturates, keeps the sign")
        XCTAssertLessThan(MVTGeometry.signedArea2(cw.reversed()), 0)
        XCTAssertEqual(MVTGeometry.signedArea2([p(0, 0), p(10, 0), p(10, 10), p(0, 10)]), 200)
        XCTAssertFalse(MVTGeometry.encodePolygons([[cw]]).isEmpty, "encoding extreme rings does not trap either")
    }

    func testCoordinatesFarOutsideTheTileAreRejected() {
        let limit = MVTGeometry.coordinateLimit(extent: 4096)
        XCTAssertThrowsError(try MVTGeometry.decode(Self.ring(Self.extremeTriangle), type: .polygon, limit: limit)) { error in
            XCTAssertTrue("\(error)".contains("outside the tile"), "\(error)")
        }
        // The cursor itself would wrap past Int32 here: 2^31 - 1 + 2^31 - 1.
        let wrap: [UInt32] = [9, 0xFFFF_FFFE, 0, 10, 0xFFFF_FFFE, 0]
        XCTAssertThrowsError(try MVTGeometry.decode(wrap, type: .lineString, limit: MVTGeometry.coordinateLimit(extent: .max)))
        XCTAssertEqual(try MVTGeometry.decode(wrap, type: .lineString).parts[0][1].x, -2, "without a limit the cursor wraps, no trap")
        // A normal buffer (a tenth of the extent past each edge) is fine.
        XCTAssertNoThrow(try MVTGeometry.decode(Self.ring([p(-400, -400), p(4500, -400), p(4500, 4500)]), type: .polygon, limit: limit))
        XCTAssertEqual(MVTGeometry.coordinateLimit(extent: .max), Int64(Int32.min)...Int64(Int32.max))
    }

    func testWholeTileWithExtremeCoordinatesFailsToDecode() {
        var b = MVTLayerBuilder(name: "evil")
        b.addFeature(id: 1, type: .polygon, geometry: Self.ring(Self.extremeTriangle), properties: [])
        XCTAssertThrowsError(try MVTTile(decoding: MVTTileEncoder.encode([b]))) { error in
            XCTAssertTrue("\(error)".contains("corrupt or hostile"), "\(error)")
        }
        XCTAssertNoThrow(try MVTTile(decoding: MVTTileEncoder.encode([b]), limitCoordinates: false))
    }
}
