#if canImport(Glibc)
import Glibc
#endif

/// What `lstat(2)` says about a path, without following a final symlink.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case regular, directory, symlink, other }
    public var kind: Kind
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var modified: Int64
    public var device: UInt64
    public var inode: UInt64
}

/// Typed wrappers for the file operations the daemon relies on for durability.
///
/// Each wraps one syscall (named in its doc comment), retries EINTR and throws `SystemError`
/// naming the path. Durability follows the Maildir rule: write a temporary name, `fsync`,
/// `rename`, then `fsync` the directory so the rename itself survives a crash.
public struct FileSystem: Sendable {
    public init() {}

    /// `lstat`; nil when the path does not exist.
    public func status(_ path: String) throws(SystemError) -> FileStatus? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError(call: "lstat", target: path, errno: errno)
        }
        return FileStatus(st)
    }

    /// `lstat`'s status-change time (ctime) in nanoseconds since the epoch; nil when the path
    /// does not exist. Unlike the modification time, a rename sets it, so it tells when a file
    /// arrived in a folder (archive retention).
    public func changeTime(_ path: String) throws(SystemError) -> Int64? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError(call: "lstat", target: path, errno: errno)
        }
        return Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }

    /// `realpath(3)`: the absolute path of an existing `path` with `.`, `..`, repeated slashes
    /// and symbolic links resolved, so one folder has one spelling however it was named.
    public func canonicalPath(_ path: String) throws(SystemError) -> String {
        guard let resolved = realpath(path, nil) else { throw SystemError(call: "realpath", target: path, errno: errno) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `mkdir -p` with `mode` for the directories it creates.
    public func createDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if let s = try status(path) {
            if s.kind == .directory { return }
            throw SystemError(call: "mkdir", target: path, errno: ENOTDIR)
        }
        let parent = FileSystem.parent(of: path)
        if !parent.isEmpty && parent != path { try createDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError(call: "mkdir", target: path, errno: errno) }
    }

    /// `rename(2)`: atomic within one filesystem.
    public func rename(_ from: String, to: String) throws(SystemError) {
        _ = try retryingEINTR("rename", "\(from) -> \(to)") { Glibc.rename(from, to) }
    }

    /// `unlink(2)`; a missing file is not an error.
    public func remove(_ path: String) throws(SystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw SystemError(call: "unlink", target: path, errno: errno) }
    }

    /// `rmdir(2)`; a missing or non-empty directory is left alone.
    public func removeEmptyDirectory(_ path: String) {
        _ = rmdir(path)
    }

    /// `opendir`/`readdir`: the entry names of a directory, without `.` and `..`, sorted.
    public func list(_ path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError(call: "opendir", target: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `open(O_DIRECTORY)` + `fsync`: makes renames and creations in `path` durable.
    public func syncDirectory(_ path: String) throws(SystemError) {
        try Directory(path).sync()
    }

    /// `open(O_NOFOLLOW | O_NONBLOCK)` + `fstat`: opens a dropped file for reading only if it
    /// is a regular file. Symlinks fail with ELOOP, FIFOs and devices with EINVAL, so nothing
    /// hostile is ever read or blocked on.
    public func openRegularFileForReading(_ path: String) throws(SystemError) -> Int32 {
        let fd = try retryingEINTR("open", path) { open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            close(fd)
            throw SystemError(call: "fstat", target: path, errno: e)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SystemError(call: "open", target: path, errno: EINVAL)
        }
        return fd
    }

    /// `open(O_WRONLY|O_NOFOLLOW)` of an existing regular file the daemon created itself (a
    /// staged upload filled in parts): never through a symlink, never a FIFO or device.
    public func openRegularFileForWriting(_ path: String) throws(SystemError) -> Int32 {
        let fd = try retryingEINTR("open", path) { open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SystemError(call: "open", target: path, errno: EINVAL)
        }
        return fd
    }

    /// Writes `bytes` to `path` durably: a temporary file created with `Directory.createFile`
    /// (never through a symlink), `fsync`, `renameat`, directory `fsync`.
    public func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644) throws(SystemError) {
        let directory = try Directory(FileSystem.parent(of: path))
        let name = FileSystem.name(of: path), tmp = "." + name + ".tmp"
        let fd = try directory.createFile(tmp, mode: mode, replacingStale: true)
        do {
            try FileSystem.writeAll(fd, bytes, target: directory.path + "/" + tmp)
            try FileSystem.sync(fd, target: directory.path + "/" + tmp)
            close(fd)
        } catch {
            close(fd)
            try? directory.remove(tmp)
            throw error
        }
        try directory.rename(tmp, to: name)
        try directory.sync()
    }

    /// Appends the whole content of the regular file at `path` to the open descriptor `output`
    /// (`read`/`write` in 1 MiB chunks): copying across filesystems, concatenating sources.
    /// `shouldContinue` is asked before each chunk; false stops the copy with ECANCELED.
    public func appendContents(of path: String, to output: Int32, outputName: String,
                               shouldContinue: () -> Bool = { true }) throws(SystemError) {
        let input = try openRegularFileForReading(path)
        defer { close(input) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            guard shouldContinue() else { throw SystemError(call: "copy (stopped)", target: path, errno: ECANCELED) }
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw SystemError(call: "read", target: path, errno: errno)
            }
            if n == 0 { return }
            try FileSystem.writeAll(output, buffer[..<n], target: outputName)
        }
    }

    /// Creates the temporary file `path` (`Directory.createFile`, a stale one replaced), runs
    /// `body` with its descriptor, then fsyncs it. The caller renames it into place.
    public func writeSynced(_ path: String, mode: mode_t = 0o644, _ body: (Int32) throws(SystemError) -> Void) throws(SystemError) {
        let fd = try createFile(path, mode: mode, replacingStale: true)
        defer { close(fd) }
        try body(fd)
        try FileSystem.sync(fd, target: path)
    }

    /// Reads a whole (small) file: configs, error reports.
    public func readFile(_ path: String, maxBytes: Int = 16 << 20) throws(SystemError) -> [UInt8] {
        let fd = try retryingEINTR("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        return try readToEnd(fd, path: path, maxBytes: maxBytes)
    }

    /// Reads a whole small file that must be a regular file: `openRegularFileForReading`, so a
    /// symlink, FIFO or device planted in a group-writable folder is refused instead of
    /// followed or blocked on. Used for recipes.
    public func readRegularFile(_ path: String, maxBytes: Int) throws(SystemError) -> [UInt8] {
        let fd = try openRegularFileForReading(path)
        defer { close(fd) }
        return try readToEnd(fd, path: path, maxBytes: maxBytes)
    }

    /// `read(2)` until end of file; EFBIG past `maxBytes`.
    private func readToEnd(_ fd: Int32, path: String, maxBytes: Int) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress, raw.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "read", target: path, errno: errno)
            }
            if n == 0 { return result }
            result.append(contentsOf: chunk.prefix(n))
            if result.count > maxBytes { throw SystemError(call: "read", target: path, errno: EFBIG) }
        }
    }

    /// `access(W_OK | X_OK)`: whether this process may create and rename entries in the
    /// folder (mode bits and ACLs both count).
    public func canModifyDirectory(_ path: String) -> Bool {
        access(path, W_OK | X_OK) == 0
    }

    /// `statvfs`: bytes available to unprivileged users on the filesystem holding `path`.
    public func availableBytes(_ path: String) throws(SystemError) -> Int64 {
        var s = statvfs()
        _ = try retryingEINTR("statvfs", path) { statvfs(path, &s) }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// True when `path` is on NFS, CIFS/SMB, FUSE or 9p, where inotify sees no remote changes.
    ///
    /// Reads `/proc/self/mountinfo` (proc(5)); Glibc does not expose `statfs(2)` to Swift.
    public func isRemoteFilesystem(_ path: String) throws(SystemError) -> Bool {
        let text = String(decoding: try readFile("/proc/self/mountinfo"), as: UTF8.self)
        return FileSystem.isRemote(type: FileSystem.filesystemType(of: path, mountInfo: text))
    }

    /// The filesystem type of the longest mount point in `mountInfo` (proc(5) format) that
    /// contains `path`.
    public static func filesystemType(of path: String, mountInfo: String) -> String {
        var best = ""
        var bestType = ""
        for line in mountInfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            guard left.count >= 5 else { continue }
            let mountPoint = left[4].split(separator: "\\040", omittingEmptySubsequences: false).joined(separator: " ")
            let fsType = String(halves[1].split(separator: " ").first ?? "")
            let contains = mountPoint == "/" || path == mountPoint || path.hasPrefix(mountPoint + "/")
            if contains && mountPoint.count >= best.count {
                best = mountPoint
                bestType = fsType
            }
        }
        return bestType
    }

    /// Network and userspace filesystem types (`nfs4`, `cifs`, `fuse.sshfs`, …).
    public static func isRemote(type: String) -> Bool {
        let remote = ["nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "sshfs", "fuse", "davfs"]
        return remote.contains(where: { type == $0 || type.hasPrefix($0 + ".") })
    }

    /// The directory part of `path` ("" for a bare name, "/" for the root).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    public static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension FileStatus {
    init(_ st: stat) {
        let kind: Kind = switch st.st_mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        default: .other
        }
        self.init(kind: kind, size: Int64(st.st_size),
                  modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                  device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}
