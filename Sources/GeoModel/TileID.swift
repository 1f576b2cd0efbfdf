/// A tile address in the XYZ scheme (row 0 at the north), as map clients request tiles.
///
/// MBTiles 1.3 stores rows in the TMS scheme (row 0 at the south); use `tmsRow`.
public struct TileID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var z: Int
    public var x: Int
    public var y: Int

    public init(z: Int, x: Int, y: Int) {
        self.z = z
        self.x = x
        self.y = y
    }

    /// Parses `Z/X/Y`, checking that x and y exist at zoom z.
    public init?(path: String) {
        let parts = path.split(separator: "/")
        guard parts.count == 3, let z = Int(parts[0]), let x = Int(parts[1]), let y = Int(parts[2]),
              (0...30).contains(z), x >= 0, y >= 0, x < 1 << z, y < 1 << z else { return nil }
        self.init(z: z, x: x, y: y)
    }

    /// The MBTiles `tile_row`: `2^z - 1 - y`.
    public var tmsRow: Int { (1 << z) - 1 - y }

    public init(z: Int, x: Int, tmsRow: Int) {
        self.init(z: z, x: x, y: (1 << z) - 1 - tmsRow)
    }

    public var description: String { "\(z)/\(x)/\(y)" }

    public static func < (a: TileID, b: TileID) -> Bool {
        (a.z, a.x, a.y) < (b.z, b.x, b.y)
    }
}
