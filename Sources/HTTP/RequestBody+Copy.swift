import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

extension RequestBody {
    /// Opens a body the server spooled to disk for reading (`FileSystem.openRegularFileForReading`:
    /// no symlink, regular files only), so every re-read of a body goes through one place.
    static func openStoredBody(_ path: String) throws(HTTPError) -> Int32 {
        do { return try FileSystem().openRegularFileForReading(path) } catch {
            throw HTTPError(500, "cannot read the uploaded body: \(error)")
        }
    }

    /// Writes the whole body to `fd` (from memory, or 1 MiB at a time from the temporary file).
    public func copy(toDescriptor fd: Int32) throws(HTTPError) {
        switch self {
        case .none:
            return
        case .bytes(let bytes):
            try RequestBody.writeAll(bytes[...], to: fd)
        case .file(let source, _):
            let input = try RequestBody.openStoredBody(source)
            defer { close(input) }
            var block = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = block.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw HTTPError(500, "cannot read the uploaded body: \(String(cString: strerror(errno)))") }
                if n == 0 { return }
                try RequestBody.writeAll(block[0..<n], to: fd)
            }
        }
    }

    /// `write(2)` until every byte is out (EINTR retried); a full disk is a 507.
    static func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32) throws(HTTPError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let n = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress! + (offset - bytes.startIndex), bytes.endIndex - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw HTTPError(errno == ENOSPC ? 507 : 500, "cannot store the upload: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}
