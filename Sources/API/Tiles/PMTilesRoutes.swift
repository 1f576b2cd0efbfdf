#if canImport(Glibc)
import Glibc
#endif
import HTTP
import Storage
import SystemSupport

/// `GET /pmtiles/{tileset}.pmtiles`: the tileset's PMTiles archive (written with
/// `outputs = mbtiles, pmtiles`) served with byte ranges, so a MapLibre page reads it
/// directly with the pmtiles protocol (`pmtiles://http://host/pmtiles/trails.pmtiles`).
///
/// RFC 9110: `Accept-Ranges: bytes`; a single `Range` gives 206 with `Content-Range`, an
/// unsatisfiable one 416; `ETag` (inode, size and modification time, so every publish, which
/// renames a new file into place, changes it) with `If-None-Match` → 304 and `If-Range`.
/// The body is the opened file itself (`sendfile`), so a publish replacing the archive
/// mid-response never mixes two versions. `HEAD` is the same without the body. Reads over
/// TCP need a token with `tilesets:read`; on the Unix socket they are open.
struct PMTilesRoutes: Sendable {
    let backend: any Backend

    func register(on router: inout Router) {
        router.get("/pmtiles/{tileset}.pmtiles") { request in self.archive(request) }
    }

    private func archive(_ request: Request) -> Response {
        // As on the operator endpoints: open on the Unix socket, a `tilesets:read` token over TCP
        // (a map page passes it as ?access_token=… in the pmtiles:// URL).
        if !request.peer.isUnixSocket, case .failure(let f) = backend.authenticator.require("tilesets:read", of: request) {
            return .message(f.status, f.message)
        }
        let tileset = request.parameter("tileset")
        guard PMTilesRoutes.isTilesetName(tileset) else {
            return .message(404, "no tileset \"\(tileset)\": names use letters, digits, '-', '_' and '.'")
        }
        let path = TileArchiveFormat.pmtiles.path(replacingExtensionOf: backend.tilesetPath(tileset))
        let fileSystem = FileSystem()
        let fd: Int32
        let status: FileStatus
        do throws(SystemError) {
            fd = try fileSystem.openRegularFileForReading(path)
            do {
                status = try fileSystem.status(descriptor: fd, path: path)
            } catch {
                close(fd)
                throw error
            }
        } catch {
            if error.errno == ENOENT {
                return .message(404, "tileset \(tileset) has no PMTiles archive; publish it with `outputs = mbtiles, pmtiles` in the configuration")
            }
            return .message(500, "cannot open the archive of \(tileset): \(error)")
        }
        let etag = "\"\(String(UInt64(bitPattern: Int64(status.inode)), radix: 16))-\(String(status.size, radix: 16))-\(String(status.modified, radix: 16))\""
        var headers = HTTPHeaders([("Content-Type", "application/vnd.pmtiles"), ("Accept-Ranges", "bytes"), ("ETag", etag),
                                   ("Cache-Control", "no-cache")])
        if let match = request.headers["If-None-Match"], match == "*" || match.split(separator: ",").contains(where: { $0.trimmingCharacters() == etag }) {
            close(fd)
            return Response(status: 304, headers: headers)
        }
        var rangeHeader = request.headers["Range"]
        if let ifRange = request.headers["If-Range"], ifRange != etag { rangeHeader = nil }
        switch ByteRange(header: rangeHeader, size: status.size) {
        case .whole:
            return Response(status: 200, headers: headers, body: .file(FileBody(fileDescriptor: fd, length: status.size)))
        case .partial(let offset, let length):
            headers.set("Content-Range", "bytes \(offset)-\(offset + length - 1)/\(status.size)")
            return Response(status: 206, headers: headers, body: .file(FileBody(fileDescriptor: fd, offset: offset, length: length)))
        case .unsatisfiable:
            close(fd)
            headers.set("Content-Range", "bytes */\(status.size)")
            headers.set("Content-Type", "application/json")
            var response = Response.message(416, "the range \(rangeHeader ?? "") lies outside the \(status.size)-byte archive")
            response.headers = headers
            return response
        }
    }

    static func isTilesetName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
