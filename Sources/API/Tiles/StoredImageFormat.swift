/// The image format of a raster tileset (an installed MBTiles container of PNG, JPEG or WebP
/// tiles), which the tile endpoints serve as stored rather than render.
///
/// The metadata's `format` (MBTiles 1.3: `png`, `jpg`, `webp`) says whether a tileset is
/// raster; each served tile's own signature decides its `Content-Type`, so a container whose
/// metadata lies is still answered with the type of the bytes.
enum StoredImageFormat: String, Sendable {
    case png, jpg, webp

    /// The raster format named by MBTiles metadata, nil for vector (`pbf`) or unknown formats.
    init?(metadata format: String?) {
        switch format?.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpg
        case "webp": self = .webp
        default: return nil
        }
    }

    /// The format whose signature starts `bytes` (PNG §5.2, JPEG SOI marker, RIFF/WEBP).
    init?(signatureOf bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpg
        } else if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            self = .webp
        } else {
            return nil
        }
    }

    var mimeType: String {
        switch self {
        case .png: "image/png"
        case .jpg: "image/jpeg"
        case .webp: "image/webp"
        }
    }

    /// The file extension of its tile URLs (`/v4/{tileset}/{z}/{x}/{y}.png`).
    var fileExtension: String { rawValue }
}
