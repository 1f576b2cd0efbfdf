#if canImport(Glibc)
import Glibc
#endif
import GeoModel
import SystemSupport

/// Writes a clustered PMTiles v3 archive (spec §2–§5) atomically, as `MBTilesWriter` does:
/// a temporary file next to the target is filled, checked, fsynced and renamed into place.
///
/// Tiles may arrive in any order. Each distinct blob is appended once to an unlinked spool
/// file (identical tiles are found by a 64-bit content hash and confirmed byte for byte);
/// memory holds only 16 bytes per tile and 12 per distinct blob. `finish` sorts the tiles by
/// Hilbert TileID, lays the blobs out in that order (clustered: each blob at its first use),
/// merges consecutive TileIDs with the same blob into run-length entries, and writes header,
/// root directory, metadata, leaf directories (only when the root would not fit in the first
/// 16 KiB) and the tile data. Directories and metadata are gzip-compressed; tiles are stored
/// as given (the tiler hands over gzip-compressed MVT, exactly the bytes of the MBTiles).
public final class PMTilesWriter: TileSink {
    public let path: String
    let temporaryPath: String
    public let tileType: PMTilesHeader.TileType
    public let tileCompression: PMTilesHeader.Compression
    /// Entries per leaf directory to start with; the writer grows it until the root fits.
    let initialLeafSize: Int
    /// Largest compressed root directory: what fits in the first 16 KiB after the header.
    let maxRootBytes: Int

    private var spool: RandomAccessFile?
    private var spoolBuffer: [UInt8] = []
    private var spoolFlushed: Int64 = 0
    private var blobs: [Blob] = []
    private var blobByHash: [UInt64: Int32] = [:]
    private var tiles: [Placed] = []
    public private(set) var tilesWritten = 0
    public var uniqueTiles: Int { blobs.count }

    struct Blob {
        var spoolOffset: Int64
        var length: UInt32
        /// Next blob with the same hash (a collision chain), or -1.
        var nextSameHash: Int32
    }

    struct Placed {
        var tileID: UInt64
        var sequence: UInt32
        var blob: Int32
    }

    /// Creates the temporary file and the spool next to `path`; nothing appears at `path` until `finish`.
    public init(path: String, tileType: PMTilesHeader.TileType = .mvt, tileCompression: PMTilesHeader.Compression = .gzip,
                initialLeafSize: Int = 4096, maxRootBytes: Int = PMTilesHeader.rootLimit - PMTilesHeader.size) throws(StorageError) {
        self.path = path
        self.tileType = tileType
        self.tileCompression = tileCompression
        self.initialLeafSize = max(16, initialLeafSize)
        self.maxRootBytes = min(maxRootBytes, PMTilesHeader.rootLimit - PMTilesHeader.size)
        let prefix = FileSystem.parent(of: path) + "/." + FileSystem.name(of: path) + ".\(getpid())"
        temporaryPath = prefix + ".tmp"
        let spoolPath = prefix + ".spool"
        do {
            // Leftovers of a crashed run of this same process id are ours to replace.
            try FileSystem().remove(temporaryPath)
            try FileSystem().remove(spoolPath)
            let spool = try RandomAccessFile.createExclusive(spoolPath, mode: 0o600)
            try FileSystem().remove(spoolPath)
            self.spool = spool
        } catch {
            throw .io(path: spoolPath, operation: error.call, errno: error.errno)
        }
    }

    deinit { spool = nil }

    /// Stores one tile (`TileSink`).
    public func writeTile(_ id: TileID, data: [UInt8]) throws {
        try write(id, data: data)
    }

    /// Stores one tile; a blob identical to one already stored is referenced, not copied.
    public func write(_ id: TileID, data: [UInt8]) throws(StorageError) {
        guard spool != nil else { throw .invalid(path: path, reason: "PMTiles writer already finished or aborted") }
        guard !data.isEmpty, data.count <= Int(UInt32.max) else {
            throw .invalid(path: path, reason: "tile \(id) has \(data.count) bytes; PMTiles tiles must be 1 byte to 4 GiB")
        }
        let hash = MBTilesWriter.contentKey(data)
        let key = UInt64(bitPattern: hash)
        var found: Int32 = -1
        var candidate = blobByHash[key] ?? -1
        while candidate >= 0 {
            if try sameBytes(blobs[Int(candidate)], data) {
                found = candidate
                break
            }
            candidate = blobs[Int(candidate)].nextSameHash
        }
        if found < 0 {
            found = Int32(blobs.count)
            blobs.append(Blob(spoolOffset: spoolFlushed + Int64(spoolBuffer.count), length: UInt32(data.count), nextSameHash: blobByHash[key] ?? -1))
            blobByHash[key] = found
            spoolBuffer.append(contentsOf: data)
            if spoolBuffer.count >= 1 << 20 { try flushSpool() }
        }
        tiles.append(Placed(tileID: id.hilbertID, sequence: UInt32(truncatingIfNeeded: tilesWritten), blob: found))
        tilesWritten += 1
    }

    /// Writes the archive with `metadata` (MBTiles-style name → value rows, see
    /// `PMTilesMetadata`), checks it with `PMTilesReader`, fsyncs it and renames it into place.
    public func finish(metadata: [(name: String, value: String)]) throws(StorageError) {
        guard spool != nil else { throw .invalid(path: path, reason: "PMTiles writer already finished or aborted") }
        do {
            try flushSpool()
            try writeArchive(metadata: metadata)
            let problems = try PMTilesReader(path: temporaryPath).validate(expectedAddressedTiles: UInt64(tiles.count))
            if !problems.isEmpty { throw StorageError.invalid(path: temporaryPath, reason: "self-check failed: " + problems.joined(separator: "; ")) }
            spool = nil
            try FileSystem().rename(temporaryPath, to: path)
            try FileSystem().syncDirectory(FileSystem.parent(of: path))
        } catch let error as StorageError {
            abort()
            throw error
        } catch let error as SystemError {
            abort()
            throw .io(path: error.target, operation: error.call, errno: error.errno)
        } catch {
            abort()
            throw .invalid(path: temporaryPath, reason: "\(error)")
        }
    }

    /// Discards the temporary file and the spool.
    public func abort() {
        spool = nil
        try? FileSystem().remove(temporaryPath)
    }

    // MARK: - layout

    private func writeArchive(metadata rows: [(name: String, value: String)]) throws {
        // Sort by TileID; for a tile written twice the last write wins (as MBTiles' REPLACE).
        tiles.sort { ($0.tileID, $0.sequence) < ($1.tileID, $1.sequence) }
        var unique: [Placed] = []
        unique.reserveCapacity(tiles.count)
        for t in tiles {
            if let last = unique.last, last.tileID == t.tileID { unique[unique.count - 1] = t } else { unique.append(t) }
        }
        tiles = unique

        // Clustered layout: each blob at its first use in TileID order; runs of one blob merge.
        var finalOffset = [Int64](repeating: -1, count: blobs.count)
        var order: [Int32] = []
        var dataLength: UInt64 = 0
        var entries: [PMTilesEntry] = []
        var previousBlob: Int32 = -1
        for t in tiles {
            if finalOffset[Int(t.blob)] < 0 {
                finalOffset[Int(t.blob)] = Int64(dataLength)
                dataLength += UInt64(blobs[Int(t.blob)].length)
                order.append(t.blob)
            }
            if let last = entries.last, previousBlob == t.blob, last.tileID + UInt64(last.runLength) == t.tileID, last.runLength < UInt32.max {
                entries[entries.count - 1].runLength += 1
            } else {
                entries.append(PMTilesEntry(tileID: t.tileID, offset: UInt64(finalOffset[Int(t.blob)]), length: blobs[Int(t.blob)].length, runLength: 1))
            }
            previousBlob = t.blob
        }

        let (root, leaves) = PMTilesWriter.directories(entries, initialLeafSize: initialLeafSize, maxRootBytes: maxRootBytes)
        let fields = PMTilesMetadata(rows: rows, tileType: tileType)
        let metadataBytes = GzipCodec.compress(Array(JSONWriter.string(fields.json).utf8))

        var header = PMTilesHeader()
        header.rootOffset = UInt64(PMTilesHeader.size)
        header.rootLength = UInt64(root.count)
        header.metadataOffset = header.rootOffset + header.rootLength
        header.metadataLength = UInt64(metadataBytes.count)
        header.leafOffset = header.metadataOffset + header.metadataLength
        header.leafLength = UInt64(leaves.count)
        header.tileDataOffset = header.leafOffset + header.leafLength
        header.tileDataLength = dataLength
        header.addressedTiles = UInt64(tiles.count)
        header.tileEntries = UInt64(entries.count)
        header.tileContents = UInt64(order.count)
        header.clustered = true
        header.internalCompression = .gzip
        header.tileCompression = tileCompression
        header.tileType = tileType
        fields.apply(to: &header, tiles: tiles)

        let out = try RandomAccessFile.createExclusive(temporaryPath)
        var buffer = header.bytes + root + metadataBytes + leaves
        try copyBlobs(order, into: out, buffer: &buffer)
        try out.write(buffer)
        try out.sync()
    }

    /// Appends the blobs in `order` to `out`, reading adjacent spool ranges in one `pread`.
    private func copyBlobs(_ order: [Int32], into out: RandomAccessFile, buffer: inout [UInt8]) throws {
        guard let spool else { return }
        var i = 0
        while i < order.count {
            let start = blobs[Int(order[i])].spoolOffset
            var end = start + Int64(blobs[Int(order[i])].length)
            var j = i + 1
            while j < order.count, blobs[Int(order[j])].spoolOffset == end, end - start < 1 << 20 {
                end += Int64(blobs[Int(order[j])].length)
                j += 1
            }
            let chunk = try spool.read(at: start, count: Int(end - start))
            buffer.append(contentsOf: chunk)
            if buffer.count >= 1 << 20 {
                try out.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
            i = j
        }
    }

    /// The compressed root directory and leaf directories section for `entries`.
    ///
    /// Everything goes in the root when it fits in the first 16 KiB after the header; else
    /// entries are split into leaves of `leafSize` entries (ascending, one level), the root
    /// listing the leaves, and `leafSize` grows by half until the root fits.
    static func directories(_ entries: [PMTilesEntry], initialLeafSize: Int, maxRootBytes limit: Int) -> (root: [UInt8], leaves: [UInt8]) {
        let all = GzipCodec.compress(PMTilesDirectory.encode(entries[...]))
        if all.count <= limit { return (all, []) }
        var leafSize = initialLeafSize
        while true {
            var leaves: [UInt8] = []
            var rootEntries: [PMTilesEntry] = []
            var start = 0
            while start < entries.count {
                let end = min(entries.count, start + leafSize)
                let leaf = GzipCodec.compress(PMTilesDirectory.encode(entries[start..<end]))
                rootEntries.append(PMTilesEntry(tileID: entries[start].tileID, offset: UInt64(leaves.count), length: UInt32(leaf.count), runLength: 0))
                leaves += leaf
                start = end
            }
            let root = GzipCodec.compress(PMTilesDirectory.encode(rootEntries[...]))
            if root.count <= limit || rootEntries.count == 1 { return (root, leaves) }
            leafSize += leafSize / 2
        }
    }

    private func flushSpool() throws(StorageError) {
        guard let spool, !spoolBuffer.isEmpty else { return }
        do {
            try spool.write(spoolBuffer)
        } catch {
            throw .io(path: temporaryPath, operation: "write to the tile spool", errno: error.errno)
        }
        spoolFlushed += Int64(spoolBuffer.count)
        spoolBuffer.removeAll(keepingCapacity: true)
    }

    private func sameBytes(_ blob: Blob, _ data: [UInt8]) throws(StorageError) -> Bool {
        guard Int(blob.length) == data.count, let spool else { return false }
        if blob.spoolOffset >= spoolFlushed {
            let start = Int(blob.spoolOffset - spoolFlushed)
            return spoolBuffer[start..<start + data.count].elementsEqual(data)
        }
        do {
            return try spool.read(at: blob.spoolOffset, count: data.count) == data
        } catch {
            throw .io(path: temporaryPath, operation: "read back from the tile spool", errno: error.errno)
        }
    }
}
