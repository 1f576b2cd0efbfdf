/// Errors of the Rendering module; each message says what was wrong and what to do.
public enum RenderingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `pngNN`/`jpgNN` extension with a quality the Raster Tiles API does not offer.
    case invalidQuality(value: String, format: String)
    /// An extension that names no raster format.
    case unknownFormat(String)
    /// A tile address or image size that cannot be rendered.
    case invalidRequest(String)
    /// x or y is outside the 2^z × 2^z grid of its zoom level.
    case tileNotFound

    public var description: String {
        switch self {
        case .invalidQuality(let v, let f): "Invalid quality value \(v) for raster format \(f)"
        case .unknownFormat(let e): "unknown raster format \"\(e)\"; use png, png32, png64, png128, png256, jpg, jpg70, jpg80, jpg90 or webp"
        case .invalidRequest(let m): m
        case .tileNotFound: "Tile not found"
        }
    }
}
