#if canImport(Glibc)
import Glibc
#endif

/// An inotify(7) instance: kernel notifications of file events in watched directories.
///
/// The descriptor is non-blocking; poll `fileDescriptor` for readability, then call
/// `readEvents()`. Watch descriptors identify the directory an event belongs to.
public final class Inotify {
    public let fileDescriptor: Int32

    /// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
    public init() throws(SystemError) {
        fileDescriptor = try retryingEINTR("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
    }

    deinit { close(fileDescriptor) }

    /// `inotify_add_watch`: watches `path` for `mask` events; returns the watch descriptor.
    /// Fails with ENOSPC when the user's watch limit is reached (fs.inotify.max_user_watches).
    public func addWatch(_ path: String, mask: InotifyMask) throws(SystemError) -> Int32 {
        try retryingEINTR("inotify_add_watch", path) { inotify_add_watch(fileDescriptor, path, mask.rawValue) }
    }

    /// `inotify_rm_watch`; errors are ignored because the kernel may already have dropped it.
    public func removeWatch(_ wd: Int32) {
        _ = inotify_rm_watch(fileDescriptor, wd)
    }

    /// Reads every queued event without blocking; returns [] when none are pending.
    public func readEvents() throws(SystemError) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        let bufferSize = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = read(fileDescriptor, buffer, bufferSize)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { return events }
                throw SystemError(call: "read", target: "inotify", errno: e)
            }
            if n == 0 { return events }
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= n {
                let header = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                let nameLength = Int(header.len)
                var name = ""
                if nameLength > 0 {
                    let namePtr = (buffer + offset + headerSize).assumingMemoryBound(to: CChar.self)
                    name = String(cString: namePtr)
                }
                events.append(InotifyEvent(watch: header.wd, mask: InotifyMask(rawValue: header.mask), cookie: header.cookie, name: name))
                offset += headerSize + nameLength
            }
        }
    }
}

/// One inotify event: the watch it belongs to, what happened, and the entry name.
public struct InotifyEvent: Sendable, Equatable {
    public var watch: Int32
    public var mask: InotifyMask
    public var cookie: UInt32
    public var name: String
}

/// The inotify event bits (`IN_*` from <sys/inotify.h>).
public struct InotifyMask: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let modify = InotifyMask(rawValue: UInt32(IN_MODIFY))
    public static let attrib = InotifyMask(rawValue: UInt32(IN_ATTRIB))
    public static let closeWrite = InotifyMask(rawValue: UInt32(IN_CLOSE_WRITE))
    public static let open = InotifyMask(rawValue: UInt32(IN_OPEN))
    public static let movedFrom = InotifyMask(rawValue: UInt32(IN_MOVED_FROM))
    public static let movedTo = InotifyMask(rawValue: UInt32(IN_MOVED_TO))
    public static let create = InotifyMask(rawValue: UInt32(IN_CREATE))
    public static let delete = InotifyMask(rawValue: UInt32(IN_DELETE))
    public static let deleteSelf = InotifyMask(rawValue: UInt32(IN_DELETE_SELF))
    public static let moveSelf = InotifyMask(rawValue: UInt32(IN_MOVE_SELF))
    public static let unmount = InotifyMask(rawValue: UInt32(IN_UNMOUNT))
    public static let queueOverflow = InotifyMask(rawValue: UInt32(IN_Q_OVERFLOW))
    public static let ignored = InotifyMask(rawValue: UInt32(IN_IGNORED))
    public static let onlyDirectory = InotifyMask(rawValue: UInt32(IN_ONLYDIR))
    public static let isDirectory = InotifyMask(rawValue: UInt32(IN_ISDIR))
}
