import Foundation
import Storage
import SystemSupport
import Tiling

/// Installs a dropped `.mbtiles` tileset container as `tiles/<tileset>.mbtiles`.
///
/// MapTiler's "ingest tileset container" (seeds/000): the file is validated first (MBTiles 1.3
/// structure and metadata, and every vector tile must decode), then copied next to its
/// destination under a hidden temporary name, fsynced and renamed over it, so map servers
/// never see a half-written or invalid tileset.
struct TilesetInstaller {
    let fileSystem: FileSystem

    /// The 16-byte header every SQLite 3 database starts with.
    static let sqliteHeader: [UInt8] = Array("SQLite format 3\u{0}".utf8)

    /// True when the file at `path` is an SQLite database (an MBTiles candidate).
    func isContainer(_ path: String) -> Bool {
        guard let fd = try? fileSystem.openRegularFileForReading(path) else { return false }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        return n == 16 && header == TilesetInstaller.sqliteHeader
    }

    /// Validates `path` and installs it at `destination`; returns the number of tiles.
    ///
    /// `checkInterrupt` throws when the ingest must stop (deadline, cancel, shutdown); it is
    /// called between tiles and, through SQLite's progress handler, inside every query, so a
    /// hostile file cannot hold the ingest queue. Its error is the one this method throws.
    func install(_ path: String, as name: String, destination: String, checkInterrupt: @escaping () throws -> Void) throws -> Int {
        let reader = try openReader(path, name: name)
        let interruption = InterruptionCause()
        reader.interruptWhen {
            do { try checkInterrupt(); return false } catch { interruption.error = error; return true }
        }
        do {
            return try validateAndInstall(reader, name: name, destination: destination, checkInterrupt: checkInterrupt)
        } catch let error as StorageError where error.isInterrupt {
            throw interruption.error ?? error
        }
    }

    private func openReader(_ path: String, name: String) throws -> MBTilesReader {
        do {
            return try MBTilesReader(path: path)
        } catch StorageError.invalid(_, let reason) {
            throw DaemonError.other("\(name) is not a usable MBTiles tileset: \(reason)")
        }
    }

    /// Why SQLite was told to stop, for the caller to rethrow.
    private final class InterruptionCause { var error: Error? }

    private func validateAndInstall(_ reader: MBTilesReader, name: String, destination: String, checkInterrupt: () throws -> Void) throws -> Int {
        let path = reader.path
        let problems = try reader.validate()
        guard problems.isEmpty else {
            throw DaemonError.other("\(name) is not a valid MBTiles 1.3 tileset: \(problems.joined(separator: "; ")). Re-export it with an MBTiles writer such as tippecanoe or `tiledrop publish`")
        }
        let format = try reader.metadata()["format"] ?? ""
        var count = 0
        try reader.forEachTile { id, data in
            count += 1
            if count % 256 == 0 { try checkInterrupt() }
            guard format == "pbf" else { return }
            do {
                let raw = Gzip.isGzip(data) ? try Gzip.decompress(data) : data
                _ = try MVTTile(decoding: raw)
            } catch {
                throw DaemonError.other("\(name): tile \(id) does not decode as a Mapbox Vector Tile (\(error)); the tileset is not installed")
            }
        }
        let folder = FileSystem.parent(of: destination)
        let temporary = folder + "/." + FileSystem.name(of: destination) + ".install.tmp"
        do {
            try copy(path, to: temporary)
            try fileSystem.rename(temporary, to: destination)
            try fileSystem.syncDirectory(folder)
        } catch {
            try? fileSystem.remove(temporary)
            throw error
        }
        return count
    }

    private func copy(_ source: String, to destination: String) throws(SystemError) {
        try fileSystem.writeSynced(destination) { fd throws(SystemError) in
            try fileSystem.appendContents(of: source, to: fd, outputName: destination)
        }
    }
}
