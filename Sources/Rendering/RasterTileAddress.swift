import GeoModel

/// `Z/X/Y[@2x].FORMAT`, the tail of a raster tile request, checked as the Raster Tiles API
/// checks it (zoom 0–30, x and y inside 2^z, `@2x` the only density, the listed formats).
public struct RasterTileAddress: Sendable, Hashable {
    public var tile: TileID
    /// 1 for 256 px tiles, 2 for `@2x` (512 px).
    public var pixelRatio: Int
    public var format: RasterFormat

    public init(tile: TileID, pixelRatio: Int = 1, format: RasterFormat = .png) {
        self.tile = tile
        self.pixelRatio = pixelRatio
        self.format = format
    }

    /// Parses `Z/X/Y[@2x].FORMAT`.
    public init(parsing text: String) throws(RenderingError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .invalidRequest("\"\(text)\" is not a tile address; expected Z/X/Y[@2x].FORMAT, e.g. 3/4/2.png") }
        guard let dot = parts[2].firstIndex(of: ".") else {
            throw .invalidRequest("\"\(text)\" has no format; add one of .png, .png32, .png64, .png128, .png256, .jpg, .jpg70, .jpg80, .jpg90, .webp")
        }
        var yText = parts[2][..<dot]
        let ext = String(parts[2][parts[2].index(after: dot)...])
        var ratio = 1
        if let at = yText.firstIndex(of: "@") {
            guard yText[at...] == "@2x" else { throw .invalidRequest("\"\(yText[at...])\" is not a supported density; only @2x is") }
            ratio = 2
            yText = yText[..<at]
        }
        guard let z = Int(parts[0]), (0...30).contains(z) else { throw .invalidRequest("Zoom level must be between 0-30.") }
        guard let x = Int(parts[1]), let y = Int(yText), x >= 0, y >= 0, x < 1 << z, y < 1 << z else {
            throw .tileNotFound
        }
        self.init(tile: TileID(z: z, x: x, y: y), pixelRatio: ratio, format: try RasterFormat(parsing: ext))
    }
}
