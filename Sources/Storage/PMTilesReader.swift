import GeoModel
import SystemSupport

/// Reads PMTiles v3 archives (spec §3–§5) with positioned reads, never the whole file.
///
/// Built for files from anywhere: every offset and length is checked against the file and
/// its section before reading, directories inflate to at most `Limits.maxDirectoryBytes`,
/// leaves nest at most `Limits.maxDepth` deep, and a tile larger than `Limits.maxTileBytes`
/// is refused, so a hostile archive gives a `StorageError`, never a trap or unbounded memory.
/// Tile data is returned as stored (for MVT archives normally gzip-compressed).
public final class PMTilesReader {
    public struct Limits: Sendable {
        public var maxDirectoryBytes = 8 << 20
        public var maxMetadataBytes = 16 << 20
        public var maxTileBytes = 64 << 20
        /// Levels of leaf directories below the root (the spec discourages more than one).
        public var maxDepth = 3
        public init() {}
    }

    public let path: String
    public let header: PMTilesHeader
    public let limits: Limits
    private let file: RandomAccessFile
    private var root: [PMTilesEntry] = []
    private var cachedLeaf: (offset: UInt64, entries: [PMTilesEntry])?

    public init(path: String, limits: Limits = Limits()) throws(StorageError) {
        self.path = path
        self.limits = limits
        do {
            file = try RandomAccessFile.openForReading(path)
        } catch {
            throw .io(path: path, operation: error.call, errno: error.errno)
        }
        guard file.sizeAtOpen >= Int64(PMTilesHeader.size) else {
            throw .invalid(path: path, reason: "\(file.sizeAtOpen) bytes is too short for a PMTiles archive (the header alone is 127)")
        }
        let head: [UInt8]
        do { head = try file.read(at: 0, count: PMTilesHeader.size) } catch { throw .io(path: path, operation: error.call, errno: error.errno) }
        header = try PMTilesHeader(bytes: head, path: path)
        let size = UInt64(file.sizeAtOpen)
        for (name, offset, length) in [("root directory", header.rootOffset, header.rootLength), ("metadata", header.metadataOffset, header.metadataLength),
                                       ("leaf directories", header.leafOffset, header.leafLength), ("tile data", header.tileDataOffset, header.tileDataLength)] {
            guard offset <= size, length <= size - offset else {
                throw .invalid(path: path, reason: "the \(name) section (offset \(offset), length \(length)) lies outside the \(size)-byte file; the archive is truncated or corrupt")
            }
        }
        guard header.internalCompression == .gzip || header.internalCompression == .none else {
            throw .invalid(path: path, reason: "internal compression \(header.internalCompression) is not supported (only gzip and none); re-encode with `pmtiles convert`")
        }
        guard header.maxZoom <= 30, header.minZoom <= header.maxZoom else {
            throw .invalid(path: path, reason: "zoom range \(header.minZoom)–\(header.maxZoom) is invalid (0 ≤ min ≤ max ≤ 30)")
        }
        guard header.rootLength > 0 else { throw .invalid(path: path, reason: "the root directory is empty") }
        root = try directory(offset: header.rootOffset, length: header.rootLength, what: "root directory")
    }

    /// The JSON metadata object (spec §5).
    public func metadataJSON() throws(StorageError) -> JSONValue {
        guard header.metadataLength > 0 else { return .object(JSONObject()) }
        let bytes = try inflated(offset: header.metadataOffset, length: header.metadataLength, limit: limits.maxMetadataBytes, what: "metadata")
        do {
            let value = try JSONParser.parse(bytes)
            guard case .object = value else { throw StorageError.invalid(path: path, reason: "metadata is not a JSON object (§5)") }
            return value
        } catch let e as StorageError {
            throw e
        } catch {
            throw .invalid(path: path, reason: "metadata is not valid JSON: \(error)")
        }
    }

    /// MBTiles-style metadata rows (`PMTilesMetadata.rows`).
    public func metadata() throws(StorageError) -> [String: String] {
        PMTilesMetadata.rows(header: header, json: try metadataJSON())
    }

    /// The stored bytes of tile `id`, or nil when the archive does not address it.
    public func tile(_ id: TileID) throws(StorageError) -> [UInt8]? {
        let target = id.hilbertID
        var entries = root
        for depth in 0...limits.maxDepth {
            guard let entry = PMTilesDirectory.find(target, in: entries) else { return nil }
            if entry.runLength > 0 { return try tileBytes(entry) }
            guard depth < limits.maxDepth else { break }
            entries = try leaf(entry)
        }
        throw .invalid(path: path, reason: "leaf directories nest deeper than \(limits.maxDepth) levels")
    }

    /// Calls `body` with every directory entry that addresses tiles, in TileID order, leaves
    /// expanded (depth-first). Memory: one directory per level.
    public func forEachTileEntry(_ body: (PMTilesEntry) throws -> Void) throws {
        try walk(root, depth: 0, body)
    }

    /// Calls `body` for every addressed tile in TileID order (runs expanded), refusing
    /// archives that address more than `maxTiles` tiles.
    public func forEachTile(maxTiles: UInt64 = 1 << 32, _ body: (TileID, [UInt8]) throws -> Void) throws {
        var seen: UInt64 = 0
        try forEachTileEntry { entry in
            seen += UInt64(entry.runLength)
            guard seen <= maxTiles else { throw StorageError.invalid(path: path, reason: "the archive addresses more than \(maxTiles) tiles") }
            let data = try tileBytes(entry)
            for i in 0..<UInt64(entry.runLength) {
                guard let id = TileID(hilbertID: entry.tileID + i), id.z <= 30 else {
                    throw StorageError.invalid(path: path, reason: "TileID \(entry.tileID + i) is beyond zoom 30")
                }
                try body(id, data)
            }
        }
    }

    /// Everything that violates the spec or our clustered layout (empty when valid):
    /// header counts, the root within 16 KiB, ascending non-overlapping entries, leaves in
    /// their parent's range, clustered offsets (each new blob right after the last, a
    /// repeated one earlier), sections in bounds.
    public func validate(expectedAddressedTiles: UInt64? = nil) throws(StorageError) -> [String] {
        var problems: [String] = []
        if header.rootOffset + header.rootLength > UInt64(PMTilesHeader.rootLimit) {
            problems.append("the root directory ends at byte \(header.rootOffset + header.rootLength), past the first 16 KiB")
        }
        var addressed: UInt64 = 0, entries: UInt64 = 0
        var nextNew: UInt64 = 0
        var lastEnd: UInt64 = 0
        var contents = Set<UInt64>()
        do {
            try forEachTileEntry { e in
                if e.tileID < lastEnd { problems.append("entry at TileID \(e.tileID) overlaps the run before it") }
                lastEnd = e.tileID + UInt64(e.runLength)
                addressed += UInt64(e.runLength)
                entries += 1
                if header.clustered {
                    if e.offset == nextNew {
                        nextNew += UInt64(e.length)
                        contents.insert(e.offset)
                    } else if e.offset > nextNew || !contents.contains(e.offset) {
                        if problems.count < 20 { problems.append("not clustered: tile \(e.tileID) at offset \(e.offset), expected \(nextNew) or an earlier blob") }
                    }
                }
            }
        } catch let e as StorageError {
            return problems + ["\(e)"]
        } catch {
            return problems + ["\(error)"]
        }
        if header.addressedTiles != 0 && header.addressedTiles != addressed { problems.append("header says \(header.addressedTiles) addressed tiles, directories address \(addressed)") }
        if header.tileEntries != 0 && header.tileEntries != entries { problems.append("header says \(header.tileEntries) tile entries, directories hold \(entries)") }
        if header.clustered && header.tileContents != 0 && header.tileContents != UInt64(contents.count) {
            problems.append("header says \(header.tileContents) tile contents, directories reference \(contents.count)")
        }
        if header.clustered && nextNew != header.tileDataLength { problems.append("tile data is \(header.tileDataLength) bytes but the blobs end at \(nextNew)") }
        if let expectedAddressedTiles, addressed != expectedAddressedTiles { problems.append("directories address \(addressed) tiles, \(expectedAddressedTiles) were written") }
        if header.tileType == .mvt {
            do {
                if case .object(let o) = try metadataJSON(), o["vector_layers"]?.arrayValue == nil { problems.append("MVT archive without vector_layers in its metadata (§5 MUST)") }
            } catch {
                problems.append("\(error)")
            }
        }
        return problems
    }

    // MARK: - internals

    private func walk(_ entries: [PMTilesEntry], depth: Int, _ body: (PMTilesEntry) throws -> Void) throws {
        for (i, e) in entries.enumerated() {
            if e.runLength > 0 {
                try body(e)
                continue
            }
            guard depth < limits.maxDepth else { throw StorageError.invalid(path: path, reason: "leaf directories nest deeper than \(limits.maxDepth) levels") }
            let children = try leaf(e)
            let upper = i + 1 < entries.count ? entries[i + 1].tileID : UInt64.max
            guard let first = children.first, first.tileID >= e.tileID, let last = children.last, last.tileID < upper else {
                throw StorageError.invalid(path: path, reason: "leaf directory at offset \(e.offset) holds TileIDs outside its range \(e.tileID)..<\(upper)")
            }
            try walk(children, depth: depth + 1, body)
        }
    }

    private func leaf(_ entry: PMTilesEntry) throws(StorageError) -> [PMTilesEntry] {
        if let cachedLeaf, cachedLeaf.offset == entry.offset { return cachedLeaf.entries }
        guard entry.offset <= header.leafLength, UInt64(entry.length) <= header.leafLength - entry.offset else {
            throw .invalid(path: path, reason: "leaf directory at offset \(entry.offset) (length \(entry.length)) lies outside the leaf section")
        }
        let entries = try directory(offset: header.leafOffset + entry.offset, length: UInt64(entry.length), what: "leaf directory at offset \(entry.offset)")
        cachedLeaf = (entry.offset, entries)
        return entries
    }

    private func directory(offset: UInt64, length: UInt64, what: String) throws(StorageError) -> [PMTilesEntry] {
        let bytes = try inflated(offset: offset, length: length, limit: limits.maxDirectoryBytes, what: what)
        switch PMTilesDirectory.decode(bytes) {
        case .success(let entries): return entries
        case .failure(let e): throw .invalid(path: path, reason: "\(what): \(e)")
        }
    }

    private func tileBytes(_ entry: PMTilesEntry) throws(StorageError) -> [UInt8] {
        guard entry.offset <= header.tileDataLength, UInt64(entry.length) <= header.tileDataLength - entry.offset else {
            throw .invalid(path: path, reason: "tile \(entry.tileID) (offset \(entry.offset), length \(entry.length)) lies outside the tile data section")
        }
        guard Int(entry.length) <= limits.maxTileBytes else {
            throw .invalid(path: path, reason: "tile \(entry.tileID) has \(entry.length) bytes, more than the \(limits.maxTileBytes)-byte limit")
        }
        return try read(header.tileDataOffset + entry.offset, Int(entry.length), what: "tile \(entry.tileID)")
    }

    private func inflated(offset: UInt64, length: UInt64, limit: Int, what: String) throws(StorageError) -> [UInt8] {
        guard length <= UInt64(limit) else { throw .invalid(path: path, reason: "\(what) is \(length) bytes, more than the \(limit)-byte limit") }
        let raw = try read(offset, Int(length), what: what)
        guard header.internalCompression == .gzip else { return raw }
        guard let bytes = GzipCodec.decompress(raw, limit: limit) else {
            throw .invalid(path: path, reason: "\(what) is not valid gzip or inflates beyond \(limit) bytes")
        }
        return bytes
    }

    private func read(_ offset: UInt64, _ count: Int, what: String) throws(StorageError) -> [UInt8] {
        guard offset <= UInt64(file.sizeAtOpen), UInt64(count) <= UInt64(file.sizeAtOpen) - offset else {
            throw .invalid(path: path, reason: "\(what) (offset \(offset), \(count) bytes) lies past the end of the file")
        }
        do {
            return try file.read(at: Int64(offset), count: count)
        } catch {
            throw .io(path: path, operation: "read \(what)", errno: error.errno)
        }
    }
}
