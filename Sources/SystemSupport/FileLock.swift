#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock on a file (`flock(2)`, `LOCK_EX | LOCK_NB`), held while the
/// object lives; the kernel releases it when the process dies, even by `kill -9`.
///
/// The daemon takes one on `<root>/tiledrop.lock` so two daemons never share a root: both
/// would otherwise run start-up recovery over each other's ingests.
public final class FileLock {
    private let fd: Int32
    public let path: String

    /// Takes the lock, or throws `SystemError` with `EWOULDBLOCK` when another process holds it.
    /// The holder's pid is written into the file for the error message of the next one.
    /// The file is opened with `O_NOFOLLOW` and must be a regular file (else `ELOOP` or
    /// `EINVAL`): the root may be group-writable, and a symlink planted at the lock's name
    /// must not make the daemon truncate what it points at.
    public init(path: String) throws(SystemError) {
        self.path = path
        fd = try retryingEINTR("open", path) { open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SystemError(call: "open", target: path, errno: EINVAL)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(fd)
            throw SystemError(call: "flock", target: path, errno: e)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }

    /// The pid recorded by the current holder of the lock at `path`, if readable.
    public static func holder(of path: String) -> Int32? {
        guard let bytes = try? FileSystem().readRegularFile(path, maxBytes: 64) else { return nil }
        return Int32(String(decoding: bytes, as: UTF8.self).filter { $0.isNumber })
    }
}
