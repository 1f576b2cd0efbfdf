/// One layer of one tile as a tiling run left it: what `layer_stats` adds up, and what an
/// incremental publish needs to extend the tile without reading the features already in it.
/// Tiling produces it, Storage keeps it in the MBTiles (`tiledrop_tile_layers`).
public struct TileLayerRecord: Sendable, Equatable {
    public var tile: TileID
    /// Index of the layer in the recipe.
    public var layer: Int
    /// Encoded (uncompressed) layer size in bytes.
    public var size: Int
    public var points: Int
    public var lines: Int
    public var polygons: Int
    /// FNV-1a state after the kept features (`LayerStats` checksum input); an append goes on from it.
    public var hash: UInt64
    /// Set when the layer was capped by `layer_size`: the size every feature would have needed.
    public var requiredSize: Int?
    /// Features left out by the cap.
    public var dropped: Int

    public init(tile: TileID, layer: Int, size: Int, points: Int, lines: Int, polygons: Int, hash: UInt64, requiredSize: Int?, dropped: Int) {
        self.tile = tile
        self.layer = layer
        self.size = size
        self.points = points
        self.lines = lines
        self.polygons = polygons
        self.hash = hash
        self.requiredSize = requiredSize
        self.dropped = dropped
    }
}
