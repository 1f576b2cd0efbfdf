#if canImport(Glibc)
import Glibc
#endif

/// An open directory (`open(O_DIRECTORY)`) in which files are created with `openat`.
///
/// The one way tiledrop creates a file: `openat(dirfd, name, O_CREAT | O_EXCL | O_NOFOLLOW)`
/// relative to the opened directory, so a symbolic link planted at the name — in a
/// group-writable folder such as `failed/` — is never followed and nothing existing is ever
/// truncated. A temporary name found taken (a crash's leftover, or a planted link) is
/// unlinked first: `unlinkat` removes the entry itself, never what a link points to.
public final class Directory {
    public let path: String
    let fd: Int32

    /// `open(path, O_RDONLY | O_DIRECTORY)`.
    public init(_ path: String) throws(SystemError) {
        self.path = path
        fd = try retryingEINTR("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    deinit { close(fd) }

    /// `openat(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)`: a new file `name`, open for writing.
    ///
    /// With `replacingStale` (for temporary names only the daemon uses, and outputs the user
    /// named) an existing regular file or symbolic link is unlinked and creation retried;
    /// anything else there (a device, a FIFO, a folder) and, without it, any existing entry
    /// fails with EEXIST.
    public func createFile(_ name: String, mode: mode_t = 0o644, replacingStale: Bool = false) throws(SystemError) -> Int32 {
        var attempts = 0
        while true {
            do {
                return try retryingEINTR("open", join(name)) { openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
            } catch where error.errno == EEXIST && replacingStale && attempts < 3 && isReplaceable(name) {
                attempts += 1
                try remove(name)
            }
        }
    }

    /// True for a regular file or a symbolic link (`fstatat(AT_SYMLINK_NOFOLLOW)`).
    private func isReplaceable(_ name: String) -> Bool {
        var st = stat()
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        return st.st_mode & S_IFMT == S_IFREG || st.st_mode & S_IFMT == S_IFLNK
    }

    /// `renameat(2)` within this directory: atomic, replaces `to` (a link there is replaced, not followed).
    public func rename(_ from: String, to: String) throws(SystemError) {
        _ = try retryingEINTR("rename", "\(join(from)) -> \(join(to))") { renameat(fd, from, fd, to) }
    }

    /// `unlinkat(2)`; a missing entry is not an error.
    public func remove(_ name: String) throws(SystemError) {
        if unlinkat(fd, name, 0) != 0 && errno != ENOENT { throw SystemError(call: "unlink", target: join(name), errno: errno) }
    }

    /// `fsync(2)` on the directory: makes creations and renames in it durable.
    public func sync() throws(SystemError) {
        try FileSystem.sync(fd, target: path)
    }

    private func join(_ name: String) -> String { path + "/" + name }
}

extension FileSystem {
    /// `write(2)` until all of `bytes` is out, retrying EINTR and short writes.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, target: String) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = try retryingEINTR("write", target) { write(fd, bytes.baseAddress! + done, bytes.count - done) }
            done += n
        }
    }

    /// `writeAll` for a byte array (or slice of one).
    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, target: String) throws(SystemError) {
        let failure: SystemError? = bytes.withUnsafeBytes { raw -> SystemError? in
            do throws(SystemError) { try writeAll(fd, raw, target: target); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// `writeAll` for a byte array.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], target: String) throws(SystemError) {
        try writeAll(fd, bytes[...], target: target)
    }

    /// `fsync(2)`, retrying EINTR.
    public static func sync(_ fd: Int32, target: String) throws(SystemError) {
        _ = try retryingEINTR("fsync", target) { fsync(fd) }
    }

    /// An output the user named: a new file (`createFile`, replacing a regular file or link),
    /// or, when `path` is an existing device or FIFO such as `/dev/stdout`, that opened for
    /// writing (`O_NOFOLLOW`, never created or truncated).
    public func openOutput(_ path: String, mode: mode_t = 0o644) throws(SystemError) -> Int32 {
        do {
            return try createFile(path, mode: mode, replacingStale: true)
        } catch where error.errno == EEXIST {
            guard let st = try status(path), st.kind == .other else { throw error }
            return try retryingEINTR("open", path) { open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) }
        }
    }

    /// Creates the new file `path` (see `Directory.createFile`) and returns it open for writing.
    public func createFile(_ path: String, mode: mode_t = 0o644, replacingStale: Bool = false) throws(SystemError) -> Int32 {
        try Directory(FileSystem.parent(of: path)).createFile(FileSystem.name(of: path), mode: mode, replacingStale: replacingStale)
    }
}
