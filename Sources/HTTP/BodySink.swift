#if canImport(Glibc)
import Glibc
#endif
import SystemSupport

/// Collects a request body: in memory up to `memoryLimit`, then in a temporary file created
/// with `O_CREAT | O_EXCL | O_NOFOLLOW` (mode 0600) in the server's temporary directory.
///
/// Never holds more than `memoryLimit` bytes in memory; refuses more than `maxBytes` in all
/// (413). `discard()` removes the file, so a failed or abandoned upload leaves nothing behind.
final class BodySink {
    private let memoryLimit: Int
    private let maxBytes: Int64
    private let directory: String
    private var memory: [UInt8] = []
    private var fd: Int32 = -1
    private(set) var path: String?
    private(set) var size: Int64 = 0

    init(memoryLimit: Int, maxBytes: Int64, directory: String) {
        self.memoryLimit = memoryLimit
        self.maxBytes = maxBytes
        self.directory = directory
    }

    deinit { discard() }

    func append(_ bytes: ArraySlice<UInt8>) throws(HTTPError) {
        guard !bytes.isEmpty else { return }
        guard size + Int64(bytes.count) <= maxBytes else {
            throw HTTPError(413, "request body larger than the limit of \(maxBytes) bytes (max_file_size)", closesConnection: true)
        }
        size += Int64(bytes.count)
        if fd < 0 && memory.count + bytes.count <= memoryLimit {
            memory.append(contentsOf: bytes)
            return
        }
        if fd < 0 {
            try openFile()
            let buffered = memory
            memory = []
            try write(buffered[...])
        }
        try write(bytes)
    }

    /// The finished body; the sink no longer owns a file it hands out (the server removes it
    /// after the handler).
    func finish() -> RequestBody {
        if fd >= 0 {
            _ = close(fd)
            fd = -1
            let body = RequestBody.file(path: path!, size: size)
            path = nil
            return body
        }
        return memory.isEmpty ? .none : .bytes(memory)
    }

    /// Closes and removes the temporary file, if any.
    func discard() {
        if fd >= 0 { _ = close(fd); fd = -1 }
        if let path { unlink(path) }
        path = nil
        memory = []
    }

    private func openFile() throws(HTTPError) {
        let random = UInt64.random(in: 0...UInt64.max)
        let candidate = directory + "/.upload-" + String(getpid()) + "-" + String(random, radix: 36)
        do {
            fd = try FileSystem().createFile(candidate, mode: 0o600)
        } catch {
            throw HTTPError(503, "cannot store the request body under \(directory): \(error.message); try again later", closesConnection: true)
        }
        path = candidate
    }

    private func write(_ bytes: ArraySlice<UInt8>) throws(HTTPError) {
        do {
            try FileSystem.writeAll(fd, bytes, target: path ?? directory)
        } catch {
            discard()
            throw HTTPError(error.errno == ENOSPC ? 507 : 503, "cannot store the request body: \(error.message)", closesConnection: true)
        }
    }

    /// Removes upload files a previous run left in `directory` (after a crash).
    static func removeLeftovers(in directory: String, fileSystem: FileSystem = FileSystem()) {
        for name in (try? fileSystem.list(directory)) ?? [] where name.hasPrefix(".upload-") {
            try? fileSystem.remove(directory + "/" + name)
        }
    }
}
