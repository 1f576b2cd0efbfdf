import Foundation
import GeoModel
import Storage
import SystemSupport

/// Counts changes to tileset records made through the API (MTS create, `PATCH`, delete). The
/// open files cache each tileset's `private` flag; a change makes the next request read it again.
final class TilesetChanges: @unchecked Sendable {
    private let lock = NSLock()
    private var count: UInt64 = 0

    init() {}

    /// Changes so far.
    var generation: UInt64 { lock.withLock { count } }

    /// A tileset's record changed.
    func changed() { lock.withLock { count += 1 } }
}

/// Open read-only connections to the MBTiles files in `tiles/`, reused across requests.
///
/// Each request `stat`s the file: when its inode changed (a publish renamed a new file over
/// it), the next request opens the new file, while a request already reading keeps its
/// connection — and so the old inode — until it finishes. After a change to tileset records
/// (`TilesetChanges`), connections opened before it are closed and the next request reads the
/// tileset's `private` flag again. Readers are not shared between threads: a request takes one,
/// uses it, and gives it back.
final class TilesetFiles: @unchecked Sendable {
    /// One open file and what its metadata says.
    final class Entry {
        let reader: MBTilesReader
        let inode: UInt64
        let device: UInt64
        let metadata: [String: String]
        let minzoom: Int
        let maxzoom: Int
        let bounds: [Double]
        let isPrivate: Bool
        /// `TilesetChanges.generation` when `isPrivate` was read.
        let generation: UInt64
        /// The same file opened for `pread` of its SQLite header (the change counter); nil
        /// when it is not a rollback-journal database this connection reads (no tile cache then).
        let header: RandomAccessFile?

        init(reader: MBTilesReader, status: FileStatus, isPrivate: Bool, generation: UInt64) throws(StorageError) {
            self.reader = reader
            inode = status.inode
            device = status.device
            metadata = try reader.metadata()
            minzoom = Int(metadata["minzoom"] ?? "") ?? 0
            maxzoom = Int(metadata["maxzoom"] ?? "") ?? 30
            let b = (metadata["bounds"] ?? "").split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            bounds = b.count == 4 ? b : [-180, -85.051129, 180, 85.051129]
            self.isPrivate = isPrivate
            self.generation = generation
            header = Entry.openHeader(reader.path, inode: status.inode, device: status.device)
        }

        /// Opens `path` again for reading its header, if it is still the file the reader has
        /// (same inode) and in rollback-journal mode (header byte 18 is 1; in WAL mode the
        /// change counter does not follow every commit).
        private static func openHeader(_ path: String, inode: UInt64, device: UInt64) -> RandomAccessFile? {
            guard let file = try? RandomAccessFile.openForReading(path),
                  let st = try? FileSystem().status(descriptor: file.descriptor, path: path), st.inode == inode, st.device == device,
                  let header = try? file.read(at: 0, count: 28), header[18] == 1 else { return nil }
            return file
        }

        /// The SQLite file change counter (big-endian, offset 24), or nil when unreadable.
        func changeCounter() -> UInt32? {
            guard let header, let b = try? header.read(at: 24, count: 4) else { return nil }
            return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
        }
    }

    private let backend: any Backend
    private let changes: TilesetChanges
    /// Tiles read through `tile(_:_:)`, shared by every tileset of this instance.
    let cache: TileBytesCache
    private let fileSystem = FileSystem()
    private let lock = NSLock()
    private var idle: [String: [Entry]] = [:]

    init(backend: any Backend, changes: TilesetChanges = TilesetChanges(), cacheBytes: Int = 0) {
        self.backend = backend
        self.changes = changes
        cache = TileBytesCache(maxBytes: cacheBytes)
    }

    /// Stored tile `id` of `entry`'s file, from the cache when the file has not changed since it
    /// was read (see `TileBytesCache`), else from SQLite (and then kept).
    func tile(_ entry: Entry, _ id: TileID) throws(StorageError) -> [UInt8]? {
        guard cache.maxBytes > 0, let version = entry.changeCounter() else { return try entry.reader.tile(id) }
        let key = TileBytesCache.Key(device: entry.device, inode: entry.inode, version: version, z: Int32(id.z), x: Int32(id.x), y: Int32(id.y))
        if let hit = cache.tile(key) { return hit }
        guard let data = try entry.reader.tile(id) else { return nil }
        cache.store(key, data)
        return data
    }

    /// Runs `body` with an open entry for tileset `name`; nil when `tiles/<name>.mbtiles` does not exist.
    func with<T>(_ name: String, _ body: (Entry) throws(StorageError) -> T) throws(StorageError) -> T? {
        let path = backend.tilesetPath(name)
        guard let status = try? fileSystem.status(path), status.kind == .regular else { return nil }
        let generation = changes.generation
        let reused: Entry? = lock.withLock {
            var list = idle[name] ?? []
            list.removeAll { $0.inode != status.inode || $0.device != status.device || $0.generation != generation }
            let e = list.popLast()
            idle[name] = list
            return e
        }
        let entry: Entry
        if let reused {
            entry = reused
        } else {
            let isPrivate = (try? backend.read { db throws(StorageError) in try db.tileset(id: name)?.isPrivate }) ?? nil
            entry = try Entry(reader: try MBTilesReader(path: path), status: status, isPrivate: isPrivate ?? false, generation: generation)
        }
        let result = try body(entry)
        lock.withLock {
            if (idle[name]?.count ?? 0) < 8 && entry.generation == changes.generation { idle[name, default: []].append(entry) }
        }
        return result
    }
}
