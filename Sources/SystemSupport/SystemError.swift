#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and the `errno` it returned.
///
/// Every syscall wrapper in this module throws this, after retrying `EINTR`
/// (the discipline of swift-nio's `System.swift`).
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var target: String
    public var errno: Int32

    public init(call: String, target: String = "", errno: Int32) {
        self.call = call
        self.target = target
        self.errno = errno
    }

    public var message: String { String(cString: strerror(errno)) }

    public var description: String {
        target.isEmpty ? "\(call) failed: \(message)" : "\(call)(\(target)) failed: \(message)"
    }
}

/// Calls `body` until it stops failing with `EINTR`; throws `SystemError` on -1.
@inline(__always)
package func retryingEINTR<T: BinaryInteger>(_ call: String, _ target: String = "", _ body: () -> T) throws(SystemError) -> T {
    while true {
        let r = body()
        if r != -1 { return r }
        let e = Glibc.errno
        if e == EINTR { continue }
        throw SystemError(call: call, target: target, errno: e)
    }
}
