/// A longitude/latitude box: west, south, east, north in degrees.
///
/// MBTiles 1.3 `bounds` and TileJSON `bounds` use this order.
public struct BoundingBox: Sendable, Hashable {
    public var west: Double
    public var south: Double
    public var east: Double
    public var north: Double

    public init(west: Double, south: Double, east: Double, north: Double) {
        self.west = west
        self.south = south
        self.east = east
        self.north = north
    }

    /// A box that holds nothing; `extend` makes it grow.
    public static let empty = BoundingBox(west: .infinity, south: .infinity, east: -.infinity, north: -.infinity)

    /// The whole Web Mercator world.
    public static let world = BoundingBox(west: -180, south: -85.0511287798066, east: 180, north: 85.0511287798066)

    public var isEmpty: Bool { west > east || south > north }

    public mutating func extend(_ p: Position) {
        west = min(west, p.lon)
        south = min(south, p.lat)
        east = max(east, p.lon)
        north = max(north, p.lat)
    }

    public mutating func extend(_ other: BoundingBox) {
        guard !other.isEmpty else { return }
        west = min(west, other.west)
        south = min(south, other.south)
        east = max(east, other.east)
        north = max(north, other.north)
    }

    public func intersects(_ other: BoundingBox) -> Bool {
        !(other.west > east || other.east < west || other.south > north || other.north < south)
    }
}
