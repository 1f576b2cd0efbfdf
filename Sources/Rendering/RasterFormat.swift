import CZlib

/// The image formats of the Raster Tiles API: `png`, `png32`…`png256`, `jpg`, `jpg70`…`jpg90`, `webp`.
public enum RasterFormat: Sendable, Hashable, CustomStringConvertible {
    /// Truecolour PNG with alpha.
    case png
    /// Indexed PNG with at most this many colours (32, 64, 128 or 256).
    case indexedPNG(colours: Int)
    /// Baseline JPEG at this quality (70, 80 or 90; plain `jpg` is 80).
    case jpeg(quality: Int)
    /// Lossless WebP (VP8L).
    case webp

    /// Parses the extension of a tile request (`png64`, `jpg90`, …); the error carries the
    /// Raster Tiles API's wording for a bad quality value.
    public init(parsing ext: String) throws(RenderingError) {
        switch ext {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg(quality: 80)
        case "webp": self = .webp
        default:
            for (prefix, allowed) in [("png", [32, 64, 128, 256]), ("jpg", [70, 80, 90])] where ext.hasPrefix(prefix) {
                let value = String(ext.dropFirst(prefix.count))
                guard let q = Int(value), allowed.contains(q) else { throw .invalidQuality(value: value, format: prefix) }
                self = prefix == "png" ? .indexedPNG(colours: q) : .jpeg(quality: q)
                return
            }
            throw .unknownFormat(ext)
        }
    }

    public var description: String {
        switch self {
        case .png: "png"
        case .indexedPNG(let n): "png\(n)"
        case .jpeg(let q): "jpg\(q)"
        case .webp: "webp"
        }
    }

    /// The HTTP `Content-Type`.
    public var mimeType: String {
        switch self {
        case .png, .indexedPNG: "image/png"
        case .jpeg: "image/jpeg"
        case .webp: "image/webp"
        }
    }

    /// Encodes a canvas in this format (JPEG composites over `background`, white by default).
    public func encode(_ canvas: Canvas, background: RenderColor = .white) -> [UInt8] {
        switch self {
        case .png:
            return PNGEncoder(strategy: Z_RLE).encodeRGBA(canvas.straightRGBA(), width: canvas.width, height: canvas.height)
        case .indexedPNG(let n):
            let (palette, indices) = PaletteQuantizer(maxColours: n).quantize(canvas.straightRGBA())
            return PNGEncoder().encodeIndexed(indices, palette: palette, width: canvas.width, height: canvas.height)
        case .jpeg(let q):
            return JPEGEncoder(quality: q).encode(rgb: canvas.rgb(over: background), width: canvas.width, height: canvas.height)
        case .webp:
            return WebPEncoder().encode(rgba: canvas.straightRGBA(), width: canvas.width, height: canvas.height)
        }
    }
}
