#if canImport(Glibc)
import Glibc
#endif
import GeoModel

/// Writes line-delimited GeoJSON (GeoJSONSeq): one compact Feature per line, "\n"-terminated.
///
/// This is tiledrop's source format: appendable, streamable, and what `tiledrop convert`
/// prints. Output is buffered (1 MiB) and written with write(2), retried on EINTR and short
/// writes; `finish(sync:)` flushes and optionally fsyncs so a renamed file is durable.
public final class GeoJSONSeqWriter {
    public private(set) var featureCount = 0
    public private(set) var bytesWritten = 0

    private var fd: Int32
    private let name: String
    private let ownsDescriptor: Bool
    private var writer = JSONWriter(capacity: 1 << 20)
    private let flushThreshold = 1 << 20

    /// Creates (or truncates) the file at `path` with mode 0644.
    public init(path: String) throws(FormatError) {
        var fd: Int32
        repeat { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw FormatError.io(file: path, operation: "create", errno: errno) }
        self.fd = fd
        self.name = path
        self.ownsDescriptor = true
    }

    /// Writes to an already open descriptor (e.g. 1 for stdout); it is not closed by `finish`.
    public init(fileDescriptor: Int32, name: String) {
        self.fd = fileDescriptor
        self.name = name
        self.ownsDescriptor = false
    }

    deinit {
        if ownsDescriptor, fd >= 0 { close(fd) }
    }

    /// Appends one feature as a line.
    public func write(_ feature: Feature) throws(FormatError) {
        GeoJSONCoding.encode(feature, into: &writer)
        writer.bytes.append(0x0A)
        featureCount += 1
        if writer.bytes.count >= flushThreshold { try flush() }
    }

    /// Writes buffered bytes to the descriptor.
    public func flush() throws(FormatError) {
        guard fd >= 0 else { throw FormatError.io(file: name, operation: "write (after finish)", errno: EBADF) }
        var failure: Int32 = 0
        writer.bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure != 0 { throw FormatError.io(file: name, operation: "write", errno: failure) }
        bytesWritten += writer.bytes.count
        writer.bytes.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs when `sync` (ignored for pipes and terminals), and closes an owned file.
    public func finish(sync: Bool) throws(FormatError) {
        try flush()
        if sync, fsync(fd) != 0, errno != EINVAL, errno != EROFS, errno != ENOTSUP {
            throw FormatError.io(file: name, operation: "fsync", errno: errno)
        }
        if ownsDescriptor {
            let rc = close(fd)
            fd = -1
            if rc != 0, errno != EINTR { throw FormatError.io(file: name, operation: "close", errno: errno) }
        } else {
            fd = -1
        }
    }
}
