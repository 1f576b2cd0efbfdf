import GeoModel
import SystemSupport

/// A tileset container that can be read tile by tile: MBTiles or PMTiles.
public protocol TileArchiveReader: AnyObject {
    var path: String { get }
    /// The stored bytes of tile `id` (XYZ addressing), or nil.
    func tile(_ id: TileID) throws(StorageError) -> [UInt8]?
    /// MBTiles-style metadata rows (`name`, `format`, `bounds`, `json`, …).
    func metadata() throws(StorageError) -> [String: String]
    /// Every tile, in the container's natural order.
    func forEachTile(_ body: (TileID, [UInt8]) throws -> Void) throws
}

/// A tileset container being written: tiles in any order, then `finish` with metadata rows.
public protocol TileArchiveWriter: TileSink {
    var path: String { get }
    var tilesWritten: Int { get }
    var uniqueTiles: Int { get }
    func write(_ id: TileID, data: [UInt8]) throws(StorageError)
    func finish(metadata: [(name: String, value: String)]) throws(StorageError)
    func abort()
}

extension MBTilesReader: TileArchiveReader {}
extension MBTilesWriter: TileArchiveWriter {}
extension PMTilesWriter: TileArchiveWriter {}
extension PMTilesReader: TileArchiveReader {
    public func forEachTile(_ body: (TileID, [UInt8]) throws -> Void) throws {
        try forEachTile(maxTiles: 1 << 32, body)
    }
}

/// The two container formats tiledrop writes.
public enum TileArchiveFormat: String, Sendable, CaseIterable {
    case mbtiles, pmtiles

    /// The format a file name asks for by its extension (`.mbtiles`, `.pmtiles`), or nil.
    public init?(path: String) {
        let lower = FileSystem.name(of: path).lowercased()
        if lower.hasSuffix(".mbtiles") { self = .mbtiles } else if lower.hasSuffix(".pmtiles") { self = .pmtiles } else { return nil }
    }

    /// `path` with its container extension replaced by (or extended with) this format's.
    public func path(replacingExtensionOf path: String) -> String {
        let base = TileArchiveFormat(path: path) == nil ? path : String(path.dropLast(8))
        return base + "." + rawValue
    }

    /// Opens a writer for this format at `path`.
    public func writer(path: String) throws(StorageError) -> any TileArchiveWriter {
        switch self {
        case .mbtiles: try MBTilesWriter(path: path)
        case .pmtiles: try PMTilesWriter(path: path)
        }
    }

    /// Opens `path` for reading, recognising the format by its first bytes (PMTiles magic or
    /// the SQLite header), not by its name.
    public static func open(path: String) throws(StorageError) -> any TileArchiveReader {
        let head: [UInt8]
        do {
            let file = try RandomAccessFile.openForReading(path)
            head = try file.read(at: 0, count: Int(min(16, file.sizeAtOpen)))
        } catch {
            throw .io(path: path, operation: error.call, errno: error.errno)
        }
        if head.starts(with: PMTilesHeader.magic) { return try PMTilesReader(path: path) }
        if head.starts(with: Array("SQLite format 3".utf8)) { return try MBTilesReader(path: path) }
        throw .invalid(path: path, reason: "neither an MBTiles (SQLite) file nor a PMTiles archive; tiledrop reads those two")
    }
}
