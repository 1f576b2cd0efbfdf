/// The fixed 127-byte header at the start of a PMTiles v3 archive (spec §3).
///
/// All integers are little-endian; positions are degrees × 10,000,000 as Int32 (§3.4).
public struct PMTilesHeader: Sendable, Equatable {
    /// §3.3 compression values.
    public enum Compression: UInt8, Sendable {
        case unknown = 0, none = 1, gzip = 2, brotli = 3, zstd = 4
    }

    /// §3.2 tile type values.
    public enum TileType: UInt8, Sendable {
        case unknown = 0, mvt = 1, png = 2, jpeg = 3, webp = 4, avif = 5, mlt = 6

        /// The MBTiles `format` value for this type (`pbf` for vector tiles).
        public var mbtilesFormat: String {
            switch self {
            case .mvt: "pbf"
            case .png: "png"
            case .jpeg: "jpg"
            case .webp: "webp"
            case .avif: "avif"
            case .mlt: "mlt"
            case .unknown: "unknown"
            }
        }

        /// The type an MBTiles `format` names (`pbf` → MVT; unknown formats → `.unknown`).
        public init(mbtilesFormat: String) {
            switch mbtilesFormat.lowercased() {
            case "pbf", "mvt": self = .mvt
            case "png": self = .png
            case "jpg", "jpeg": self = .jpeg
            case "webp": self = .webp
            case "avif": self = .avif
            case "mlt": self = .mlt
            default: self = .unknown
            }
        }
    }

    public static let size = 127
    /// The root directory must end within the first 16 KiB (§2, §4).
    public static let rootLimit = 16_384
    static let magic: [UInt8] = Array("PMTiles".utf8)

    public var rootOffset: UInt64 = 0
    public var rootLength: UInt64 = 0
    public var metadataOffset: UInt64 = 0
    public var metadataLength: UInt64 = 0
    public var leafOffset: UInt64 = 0
    public var leafLength: UInt64 = 0
    public var tileDataOffset: UInt64 = 0
    public var tileDataLength: UInt64 = 0
    public var addressedTiles: UInt64 = 0
    public var tileEntries: UInt64 = 0
    public var tileContents: UInt64 = 0
    public var clustered = false
    public var internalCompression: Compression = .gzip
    public var tileCompression: Compression = .gzip
    public var tileType: TileType = .mvt
    public var minZoom: UInt8 = 0
    public var maxZoom: UInt8 = 0
    /// west, south, east, north in degrees.
    public var bounds: (west: Double, south: Double, east: Double, north: Double) = (-180, -85.0511287, 180, 85.0511287)
    public var centerZoom: UInt8 = 0
    public var center: (lon: Double, lat: Double) = (0, 0)

    public init() {}

    public static func == (a: PMTilesHeader, b: PMTilesHeader) -> Bool {
        a.bytes == b.bytes
    }

    /// The 127 bytes.
    public var bytes: [UInt8] {
        var out = PMTilesHeader.magic + [3]
        for v in [rootOffset, rootLength, metadataOffset, metadataLength, leafOffset, leafLength,
                  tileDataOffset, tileDataLength, addressedTiles, tileEntries, tileContents] {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        out += [clustered ? 1 : 0, internalCompression.rawValue, tileCompression.rawValue, tileType.rawValue, minZoom, maxZoom]
        let position = { (d: Double) in withUnsafeBytes(of: PMTilesHeader.e7(d).littleEndian) { out.append(contentsOf: $0) } }
        position(bounds.west)
        position(bounds.south)
        position(bounds.east)
        position(bounds.north)
        out.append(centerZoom)
        position(center.lon)
        position(center.lat)
        return out
    }

    /// Parses the first 127 bytes of an archive; `path` names the file in errors.
    public init(bytes: [UInt8], path: String) throws(StorageError) {
        guard bytes.count >= PMTilesHeader.size, Array(bytes[0..<7]) == PMTilesHeader.magic else {
            throw .invalid(path: path, reason: "not a PMTiles archive (no \"PMTiles\" magic in the first 7 bytes)")
        }
        guard bytes[7] == 3 else {
            throw .invalid(path: path, reason: "PMTiles version \(bytes[7]) is not supported; only v3 is (convert it with `pmtiles convert`)")
        }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        func degrees(_ at: Int) -> Double {
            let raw = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
            return Double(Int32(bitPattern: raw)) / 10_000_000
        }
        rootOffset = u64(8)
        rootLength = u64(16)
        metadataOffset = u64(24)
        metadataLength = u64(32)
        leafOffset = u64(40)
        leafLength = u64(48)
        tileDataOffset = u64(56)
        tileDataLength = u64(64)
        addressedTiles = u64(72)
        tileEntries = u64(80)
        tileContents = u64(88)
        clustered = bytes[96] == 1
        guard let ic = Compression(rawValue: bytes[97]), let tc = Compression(rawValue: bytes[98]) else {
            throw .invalid(path: path, reason: "unknown compression code \(bytes[97])/\(bytes[98]) in the header (§3.3 defines 0-4)")
        }
        internalCompression = ic
        tileCompression = tc
        tileType = TileType(rawValue: bytes[99]) ?? .unknown
        minZoom = bytes[100]
        maxZoom = bytes[101]
        bounds = (degrees(102), degrees(106), degrees(110), degrees(114))
        centerZoom = bytes[118]
        center = (degrees(119), degrees(123))
    }

    /// Degrees as the spec's fixed-point Int32, clamped to the valid range.
    static func e7(_ degrees: Double) -> Int32 {
        guard degrees.isFinite else { return 0 }
        return Int32((max(-180, min(180, degrees)) * 10_000_000).rounded())
    }
}
