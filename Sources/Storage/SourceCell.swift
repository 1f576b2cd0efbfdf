/// A cell of the quadtree over the unit square, down to `maxLevel` (the z14 tile grid when the
/// square is Web Mercator): the key the source index files a feature under.
///
/// A feature goes into the smallest cell that holds its whole box, so a point sits in a z14
/// cell and a country in a cell a few levels down from the world. Cells are numbered by the
/// Morton (Z-order) code of their first `maxLevel` cell, so the cells inside a cell are one
/// range of codes: the features in or below a tile are one index range scan, and those in
/// the larger cells above it are one lookup per level (`probes`). Coordinates are in [0, 1],
/// x eastward and y southward; values outside are clamped, which keeps the order of
/// coordinates, so a box meeting another still meets it after clamping.
public struct SourceCell: Sendable, Hashable {
    public static let maxLevel = 14
    public let level: Int
    /// Morton code of the cell's first (north-west) `maxLevel` cell.
    public let start: Int64

    /// The last `maxLevel` Morton code inside the cell.
    public var end: Int64 { start + (Int64(1) << (2 * (Self.maxLevel - level))) - 1 }

    /// A cell as the index stores it.
    init(level: Int, start: Int64) {
        self.level = level
        self.start = start
    }

    init(level: Int, x: Int, y: Int) {
        let shift = Self.maxLevel - level
        self.level = level
        start = Self.morton(x << shift, y << shift)
    }

    /// The smallest cell holding the box from (x0, y0) to (x1, y1).
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        let (ix0, iy0, ix1, iy1) = (Self.grid(x0), Self.grid(y0), Self.grid(x1), Self.grid(y1))
        let differing = (ix0 ^ ix1) | (iy0 ^ iy1)
        let level = Self.maxLevel - (Int.bitWidth - differing.leadingZeroBitCount)
        let shift = Self.maxLevel - level
        self.init(level: level, x: ix0 >> shift, y: iy0 >> shift)
    }

    /// How to find every cell that meets a box: exact cells (above the box's scale) and code
    /// ranges with a lowest level (the cells at or below it).
    public enum Probe: Sendable, Hashable {
        case cell(SourceCell)
        case range(from: Int64, to: Int64, minLevel: Int)
    }

    /// The probes that find every cell meeting the box from (x0, y0) to (x1, y1): the box is
    /// covered by at most 16 cells of the deepest level that allows it, each a range; the
    /// cells of coarser levels meeting the box are looked up one by one.
    public static func probes(x0: Double, y0: Double, x1: Double, y1: Double) -> [Probe] {
        let (ix0, iy0, ix1, iy1) = (grid(x0), grid(y0), grid(x1), grid(y1))
        var level = maxLevel
        while level > 0 {
            let shift = maxLevel - level
            if ((ix1 >> shift) - (ix0 >> shift) + 1) * ((iy1 >> shift) - (iy0 >> shift) + 1) <= 16 { break }
            level -= 1
        }
        var out: [Probe] = []
        for l in 0...level {
            let shift = maxLevel - l
            for y in (iy0 >> shift)...(iy1 >> shift) {
                for x in (ix0 >> shift)...(ix1 >> shift) {
                    let cell = SourceCell(level: l, x: x, y: y)
                    out.append(l == level ? .range(from: cell.start, to: cell.end, minLevel: level) : .cell(cell))
                }
            }
        }
        return out
    }

    /// The `maxLevel` grid column or row of a coordinate, clamped into the square.
    static func grid(_ v: Double) -> Int {
        let n = 1 << maxLevel
        guard v > 0 else { return 0 }
        return min(n - 1, Int(v * Double(n)))
    }

    /// Interleaves the bits of x (even positions) and y (odd positions).
    static func morton(_ x: Int, _ y: Int) -> Int64 {
        var code: Int64 = 0
        for bit in 0..<maxLevel {
            code |= Int64((x >> bit) & 1) << (2 * bit)
            code |= Int64((y >> bit) & 1) << (2 * bit + 1)
        }
        return code
    }
}
