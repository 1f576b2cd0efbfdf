#if canImport(Glibc)
import Glibc
#endif

/// A sequential source of raw bytes: a plain file, or an inflating KMZ entry.
///
/// Readers pull through `ByteWindow`, so they never care where bytes come from.
protocol ByteInput: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer`; returns 0 at end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(FormatError) -> Int
    /// Bytes taken from the underlying file so far (compressed bytes for KMZ).
    var consumed: Int { get }
}

/// An open, read-only file descriptor (open(2), read(2), pread(2), each retried on EINTR).
///
/// Owned: closed on deinit. `size` comes from fstat(2) at open time. Without `followSymlinks`
/// the open uses `O_NOFOLLOW | O_NONBLOCK` and accepts only a regular file, so a symbolic link,
/// FIFO or device dropped by someone else is refused instead of followed or blocked on.
final class FileInput: ByteInput {
    let fd: Int32
    let name: String
    let size: Int
    private(set) var consumed = 0
    /// Bytes `read(into:)` may still return when `limit(to:)` set a range; nil reads to the end.
    private var remaining: Int?
    /// `ReaderLimits.shouldStop`, asked before every read.
    var shouldStop: (@Sendable () -> Bool)?

    init(path: String, name: String, followSymlinks: Bool) throws(FormatError) {
        var fd: Int32
        let flags = O_RDONLY | O_CLOEXEC | (followSymlinks ? 0 : O_NOFOLLOW | O_NONBLOCK)
        repeat { fd = open(path, flags) } while fd < 0 && errno == EINTR
        if fd < 0 && errno == ELOOP && !followSymlinks {
            throw FormatError.unsupported(file: name, message: "is a symbolic link; symlinks are not followed; copy the file instead")
        }
        guard fd >= 0 else { throw FormatError.io(file: name, operation: "open", errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw FormatError.io(file: name, operation: "fstat", errno: e)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FormatError.unsupported(file: name, message: "is a directory, not a file")
        }
        if !followSymlinks && (st.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            throw FormatError.unsupported(file: name, message: "is not a regular file (a FIFO, socket or device); copy the data into a regular file")
        }
        self.fd = fd
        self.name = name
        self.size = Int(st.st_size)
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(FormatError) -> Int {
        let wanted = min(buffer.count, remaining ?? buffer.count)
        guard wanted > 0 else { return 0 }
        try checkStop()
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, wanted)
            if n >= 0 {
                consumed += n
                remaining = remaining.map { $0 - n }
                return n
            }
            if errno != EINTR { throw FormatError.io(file: name, operation: "read", errno: errno) }
        }
    }

    /// Reads exactly `buffer.count` bytes at `offset` (fewer only at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FormatError) -> Int {
        try checkStop()
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw FormatError.io(file: name, operation: "read", errno: errno)
            }
            done += n
        }
        return done
    }

    /// Reads up to `count` bytes at `offset` into a new array.
    func bytes(at offset: Int, count: Int) throws(FormatError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let result = out.withUnsafeMutableBytes { buf -> Result<Int, FormatError> in
            do throws(FormatError) { return .success(try read(into: buf, at: offset)) } catch { return .failure(error) }
        }
        let n = try result.get()
        out.removeLast(count - n)
        return out
    }

    private func checkStop() throws(FormatError) {
        if let shouldStop, shouldStop() { throw FormatError.io(file: name, operation: "read (stopped)", errno: ECANCELED) }
    }

    /// Makes sequential reads return only the `count` bytes from `offset` on (a byte range of
    /// a file, such as the part of a compacted source an incremental publish reads).
    func limit(to offset: Int, count: Int) throws(FormatError) {
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw FormatError.io(file: name, operation: "lseek", errno: errno) }
        remaining = max(0, count)
    }

    /// Moves the sequential read position back to the start (after format detection).
    func rewind() {
        lseek(fd, 0, SEEK_SET)
        consumed = 0
    }
}
