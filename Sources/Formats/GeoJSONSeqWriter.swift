#if canImport(Glibc)
import Glibc
#endif
import GeoModel
import SystemSupport

/// Writes line-delimited GeoJSON (GeoJSONSeq): one compact Feature per line, "\n"-terminated.
///
/// This is tiledrop's source format: appendable, streamable, and what `tiledrop convert`
/// prints. Features are handed in batches to a `BackgroundEncoder` thread that encodes and
/// writes them (write(2), retried on EINTR and short writes) while the caller reads the
/// next ones; at most a few batches are in flight, so memory stays bounded. Write errors
/// surface from a later `write`, `flush` or `finish`. `finish(sync:)` flushes and
/// optionally fsyncs so a renamed file is durable.
public final class GeoJSONSeqWriter {
    public private(set) var featureCount = 0
    /// Bytes written to the file so far (exact after `flush()` / `finish(sync:)`).
    public var bytesWritten: Int { encoder?.bytesWritten ?? finalBytes }

    private var fd: Int32
    private let name: String
    private let ownsDescriptor: Bool
    private var encoder: BackgroundEncoder?
    private var finalBytes = 0
    private var batch: [Feature] = []
    private var batchCost = 0
    /// A batch goes to the encoder at this many features or about this many bytes.
    private let batchFeatures = 1024
    private let batchBytes = 1 << 20

    /// Creates the file at `path` with mode 0644 through `SystemSupport` (`openat` with
    /// `O_EXCL | O_NOFOLLOW`, `FileSystem.openOutput`): an existing file or link there is
    /// replaced, never written through; an existing device such as `/dev/stdout` is written to.
    public init(path: String) throws(FormatError) {
        let fd: Int32
        do {
            fd = try FileSystem().openOutput(path, mode: 0o644)
        } catch {
            throw FormatError.io(file: path, operation: "create", errno: error.errno)
        }
        guard let encoder = BackgroundEncoder(fd: fd) else {
            close(fd)
            throw FormatError.io(file: path, operation: "start the encoder thread for", errno: EAGAIN)
        }
        self.fd = fd
        self.name = path
        self.ownsDescriptor = true
        self.encoder = encoder
    }

    /// Writes to an already open descriptor (e.g. 1 for stdout); it is not closed by `finish`.
    public init(fileDescriptor: Int32, name: String) {
        self.fd = fileDescriptor
        self.name = name
        self.ownsDescriptor = false
        self.encoder = BackgroundEncoder(fd: fileDescriptor)
    }

    deinit {
        encoder?.stop()
        if ownsDescriptor, fd >= 0 { close(fd) }
    }

    /// Appends one feature as a line.
    public func write(_ feature: Feature) throws(FormatError) {
        guard let encoder else { throw FormatError.io(file: name, operation: "write (after finish)", errno: EBADF) }
        batch.append(feature)
        batchCost += Self.cost(of: feature)
        featureCount += 1
        if batch.count >= batchFeatures || batchCost >= batchBytes {
            let failure = encoder.submit(batch)
            batch = []
            batch.reserveCapacity(batchFeatures)
            batchCost = 0
            if failure != 0 { throw FormatError.io(file: name, operation: "write", errno: failure) }
        }
    }

    /// Writes every feature given so far to the descriptor.
    public func flush() throws(FormatError) {
        guard let encoder, fd >= 0 else { throw FormatError.io(file: name, operation: "write (after finish)", errno: EBADF) }
        var failure: Int32 = 0
        if !batch.isEmpty {
            failure = encoder.submit(batch)
            batch = []
            batchCost = 0
        }
        if failure == 0 { failure = encoder.flush() }
        if failure != 0 { throw FormatError.io(file: name, operation: "write", errno: failure) }
    }

    /// Flushes, fsyncs when `sync` (ignored for pipes and terminals), and closes an owned file.
    public func finish(sync: Bool) throws(FormatError) {
        defer {
            if let encoder {
                encoder.stop()
                finalBytes = encoder.bytesWritten
            }
            encoder = nil
        }
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

    /// A rough size of the feature's encoding, to keep batches (and memory) bounded.
    static func cost(of f: Feature) -> Int {
        var n = 64
        for m in f.properties {
            n += 16 + m.key.utf8.count
            if case .string(let s) = m.value { n += s.utf8.count }
        }
        if let g = f.geometry { n += 20 * positions(in: g) }
        return n
    }

    private static func positions(in g: Geometry) -> Int {
        switch g {
        case .point: 1
        case .multiPoint(let ps), .lineString(let ps): ps.count
        case .multiLineString(let ls), .polygon(let ls): ls.reduce(0) { $0 + $1.count }
        case .multiPolygon(let polys): polys.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
        case .geometryCollection(let gs): gs.reduce(0) { $0 + positions(in: $1) }
        }
    }
}
