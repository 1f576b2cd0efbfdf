/// Where the tiler delivers finished tiles: an MBTiles writer, or a collector in tests.
///
/// `data` is the tile exactly as it should be stored (gzip-compressed MVT for MBTiles).
public protocol TileSink: AnyObject {
    func writeTile(_ id: TileID, data: [UInt8]) throws
}
