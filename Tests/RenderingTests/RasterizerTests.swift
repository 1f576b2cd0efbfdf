import GeoModel
@testable import Rendering
import XCTest

/// The rasteriser, strokes and markers, checked by the coverage they produce.
final class RasterizerTests: XCTestCase {
    private let red = RenderColor(r: 255, g: 0, b: 0)

    private func alpha(_ c: Canvas, _ x: Int, _ y: Int) -> Int { Int(c.pixels[(y * c.width + x) * 4 + 3]) }
    private func totalAlpha(_ c: Canvas) -> Double { stride(from: 3, to: c.pixels.count, by: 4).reduce(0.0) { $0 + Double(c.pixels[$1]) } / 255 }

    func testSquareCoverageIsExactArea() {
        let p = Painter(canvas: Canvas(width: 40, height: 40))
        p.fill(rings: [[10.5, 10.25, 20.5, 10.25, 20.5, 20.75, 10.5, 20.75]], color: red)
        XCTAssertEqual(totalAlpha(p.canvas), 10 * 10.5, accuracy: 0.5)
        XCTAssertEqual(alpha(p.canvas, 15, 15), 255)
        XCTAssertEqual(alpha(p.canvas, 10, 15), 128, "a half-covered pixel is half opaque")
        XCTAssertEqual(alpha(p.canvas, 15, 10), 191, "a three-quarter-covered pixel")
        XCTAssertEqual(alpha(p.canvas, 5, 5), 0)
    }

    func testOppositeRingIsAHoleAndOverlapUsesNonZero() {
        let p = Painter(canvas: Canvas(width: 40, height: 40))
        // Outer ring one way, inner ring the other way: a hole.
        p.fill(rings: [[0, 0, 30, 0, 30, 30, 0, 30], [10, 10, 10, 20, 20, 20, 20, 10]], color: red)
        XCTAssertEqual(alpha(p.canvas, 15, 15), 0, "the hole stays empty")
        XCTAssertEqual(alpha(p.canvas, 5, 5), 255)
        // Two overlapping squares of the same orientation: non-zero fills the overlap once.
        let q = Painter(canvas: Canvas(width: 40, height: 40))
        q.fill(rings: [[0, 0, 20, 0, 20, 20, 0, 20], [10, 10, 30, 10, 30, 30, 10, 30]], color: red.withOpacity(0.5))
        XCTAssertEqual(alpha(q.canvas, 15, 15), alpha(q.canvas, 5, 5), "the overlap is not drawn twice")
    }

    func testClippedEdgesKeepCoverage() {
        // A square reaching far outside the canvas on every side fills it completely.
        let p = Painter(canvas: Canvas(width: 16, height: 16))
        p.fill(rings: [[-100, -50, 300, -40, 280, 200, -90, 210]], color: red)
        XCTAssertEqual(totalAlpha(p.canvas), 256, accuracy: 0.01)
        // A clip rectangle limits painting.
        let q = Painter(canvas: Canvas(width: 16, height: 16))
        q.setClip(x0: 0, y0: 0, x1: 8, y1: 16)
        q.fill(rings: [[-100, -50, 300, -40, 280, 200, -90, 210]], color: red)
        XCTAssertEqual(totalAlpha(q.canvas), 128, accuracy: 0.01)
    }

    func testTranslucentStrokeDoesNotDarkenAtJoins() {
        let p = Painter(canvas: Canvas(width: 64, height: 64))
        // A zig-zag with many joints, 50 % opacity.
        p.stroke(lines: [[5, 5, 30, 30, 55, 5, 58, 50, 10, 58]], width: 6, color: red.withOpacity(0.5))
        let maxAlpha = stride(from: 3, to: p.canvas.pixels.count, by: 4).map { p.canvas.pixels[$0] }.max()!
        XCTAssertEqual(Int(maxAlpha), 128, "no pixel is covered twice")
        // The stroked area of a straight line is length × width plus the two round caps.
        let q = Painter(canvas: Canvas(width: 64, height: 64))
        q.stroke(lines: [[10, 20, 50, 20]], width: 4, color: red)
        XCTAssertEqual(totalAlpha(q.canvas), 40 * 4 + Double.pi * 4, accuracy: 1.0)
    }

    func testMarkerHasFillAndOutline() {
        let p = Painter(canvas: Canvas(width: 32, height: 32))
        p.marker(x: 16, y: 16, diameter: MarkerSize.large.diameter, fill: red, outline: .white, outlineWidth: 2)
        let centre = (16 * 32 + 16) * 4
        XCTAssertEqual(Array(p.canvas.pixels[centre..<centre + 4]), [255, 0, 0, 255])
        let rim = (16 * 32 + 16 + 8) * 4 // on the circle's edge: the white outline
        XCTAssertGreaterThan(p.canvas.pixels[rim + 1], 200)
        XCTAssertEqual(totalAlpha(p.canvas), Double.pi * 9 * 9, accuracy: 2)
        XCTAssertLessThan(MarkerSize.small.diameter, MarkerSize.medium.diameter)
        XCTAssertLessThan(MarkerSize.medium.diameter, MarkerSize.large.diameter)
    }

    func testPremultipliedCompositingOverTransparent() {
        let p = Painter(canvas: Canvas(width: 4, height: 4))
        p.fill(rings: [[0, 0, 4, 0, 4, 4, 0, 4]], color: RenderColor(r: 200, g: 100, b: 50).withOpacity(0.5))
        p.fill(rings: [[0, 0, 4, 0, 4, 4, 0, 4]], color: RenderColor(r: 0, g: 0, b: 250).withOpacity(0.5))
        // Source over: alpha 0.75; blue (0.5·250 + 0.5·0.5·50) / 0.75 = 183.
        let s = p.canvas.straightRGBA()
        XCTAssertEqual(Int(s[3]), 191, accuracy: 1)
        XCTAssertEqual(Int(s[0]), 67, accuracy: 2)
        XCTAssertEqual(Int(s[2]), 183, accuracy: 2)
        XCTAssertEqual(Array(p.canvas.rgb(over: .white)[0..<3]).count, 3)
    }
}
