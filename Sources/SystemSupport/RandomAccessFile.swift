#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor with positioned reads and sequential, fully-completed writes.
///
/// Created files are opened with `O_CREAT | O_EXCL | O_NOFOLLOW` (open(2)): the file is new
/// and ours, never an existing file or a symlink someone planted at the name. Every call
/// retries `EINTR` and throws `SystemError` naming the path. Closes its descriptor on deinit.
public final class RandomAccessFile {
    public let path: String
    public let descriptor: Int32
    /// The file's size when it was opened for reading (`fstat`); 0 for created files.
    public let sizeAtOpen: Int64

    private init(path: String, descriptor: Int32, size: Int64) {
        self.path = path
        self.descriptor = descriptor
        sizeAtOpen = size
    }

    deinit { Glibc.close(descriptor) }

    /// `open(O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)`: a brand-new file at `path`.
    /// Fails with EEXIST when anything (a file, a symlink) already has that name.
    public static func createExclusive(_ path: String, mode: mode_t = 0o644) throws(SystemError) -> RandomAccessFile {
        let fd = try retryingEINTR("open", path) { open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
        return RandomAccessFile(path: path, descriptor: fd, size: 0)
    }

    /// `open(O_RDONLY | O_CLOEXEC)` + `fstat`: an existing regular file, for reading only.
    public static func openForReading(_ path: String) throws(SystemError) -> RandomAccessFile {
        let fd = try retryingEINTR("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        var st = stat()
        if fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != S_IFREG {
            let e = (st.st_mode & S_IFMT) != S_IFREG ? EINVAL : errno
            Glibc.close(fd)
            throw SystemError(call: "open", target: path, errno: e)
        }
        return RandomAccessFile(path: path, descriptor: fd, size: Int64(st.st_size))
    }

    /// `write(2)` until every byte of `bytes` is written at the current position.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let start = bytes.baseAddress! + done
            let n: Int = try retryingEINTR("write", path) { () -> Int in Glibc.write(descriptor, start, bytes.count - done) }
            done += n
        }
    }

    /// Writes all of `bytes` at the current position.
    public func write(_ bytes: [UInt8]) throws(SystemError) {
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `pread(2)` until `buffer` is full; throws EIO ("file shorter than expected") at end of file.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            let start = buffer.baseAddress! + done
            let n: Int = try retryingEINTR("pread", path) { () -> Int in pread(descriptor, start, buffer.count - done, off_t(offset) + off_t(done)) }
            if n == 0 { throw SystemError(call: "pread", target: path, errno: EIO) }
            done += n
        }
    }

    /// Reads `count` bytes at `offset`.
    public func read(at offset: Int64, count: Int) throws(SystemError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var failure: SystemError?
        out.withUnsafeMutableBytes { raw in
            do throws(SystemError) { try read(at: offset, into: raw) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }

    /// `fsync(2)`: the file's data and size are on disk.
    public func sync() throws(SystemError) {
        _ = try retryingEINTR("fsync", path) { fsync(descriptor) }
    }
}

extension FileSystem {
    /// `fstat(2)` of an open descriptor (`path` names it in errors): the size, modification
    /// time and inode of exactly the file that was opened, even if its name was replaced since.
    public func status(descriptor: Int32, path: String) throws(SystemError) -> FileStatus {
        var st = stat()
        _ = try retryingEINTR("fstat", path) { fstat(descriptor, &st) }
        return FileStatus(st)
    }
}
