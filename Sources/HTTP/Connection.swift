#if canImport(Glibc)
import Glibc
#endif
import SystemSupport

/// One client connection's state machine, owned by the event-loop thread.
///
/// idle → head (first byte) → body (when one is sent) → handling (worker) → writing → idle
/// (keep-alive) or closed. Each phase has one deadline for the whole phase, set when it
/// starts (a byte every second does not extend it), checked by the loop's sweep.
final class Connection {
    enum Phase { case idle, head, body, handling, writing }

    let id: UInt64
    let fd: Int32
    let peer: Peer
    var phase = Phase.idle
    /// When the current phase started; the longest-idle connection is evicted first at the cap.
    var phaseStart: Double
    var deadline: Double

    // Input: bytes received and not yet consumed start at `inputStart`.
    var input: [UInt8] = []
    var inputStart = 0
    var scanned = 0
    var readable = true
    var inputEnded = false
    /// epoll reported the peer's FIN (or an error): read on until `recv` says so, since no
    /// further edge will come.
    var peerClosing = false

    // The request being read.
    var head: RequestHead?
    var request: Request?
    var route: Router.Route?
    var sink: BodySink?
    var remaining: Int64 = 0
    var chunked: ChunkedDecoder?
    var bodyStart: Double = 0
    var requestStart: Double = 0
    var keepAlive = true
    /// Headers the router's admission check adds to this request's response.
    var admittedHeaders = HTTPHeaders()

    // Output: the response head and in-memory body, then an optional file body.
    var output: [UInt8] = []
    var outputOffset = 0
    var file: FileBody?
    var fileOffset: Int64 = 0
    var fileRemaining: Int64 = 0
    var writable = true

    init(id: UInt64, fd: Int32, peer: Peer, now: Double, idleTimeout: Double) {
        self.id = id
        self.fd = fd
        self.peer = peer
        phaseStart = now
        deadline = now + idleTimeout
    }

    var hasBufferedInput: Bool { inputStart < input.count }
    var bufferedInput: ArraySlice<UInt8> { input[inputStart...] }

    /// Reads what the socket has (up to `budget` bytes) into `input`, through the loop's
    /// `scratch` buffer. Returns false when the connection failed (reset).
    func fill(budget: Int, scratch: UnsafeMutableRawBufferPointer) -> Bool {
        if inputStart > 0 && (inputStart == input.count || inputStart > 64 * 1024) {
            input.removeFirst(inputStart)
            inputStart = 0
        }
        var total = 0
        while readable && !inputEnded && total < budget {
            let result: IOProgress
            do { result = try SocketIO.receive(fd, into: scratch) } catch { return false }
            switch result {
            case .bytes(let n):
                input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<n]))
                total += n
                // A short read took everything the socket held: bytes that arrive later raise
                // a new edge, so the `recv` that would only say EAGAIN is saved (as nginx does).
                if n < scratch.count && !peerClosing { readable = false }
            case .wouldBlock:
                readable = false
            case .endOfStream:
                inputEnded = true
            }
            // Only read ahead while reading a request; a pipelined next request waits, and a
            // head never buffers much more than its limit.
            if phase == .handling || phase == .writing { break }
            if phase != .body && input.count - inputStart > 64 * 1024 { break }
        }
        return true
    }

    /// Sends queued output. Returns true when everything went out; false when the socket is
    /// full (wait for EPOLLOUT). Throws when the peer is gone.
    func flush() throws(SystemError) -> Bool {
        while outputOffset < output.count {
            let offset = outputOffset
            let progress = try output.withUnsafeBytes { raw -> Result<IOProgress, SystemError> in
                do throws(SystemError) { return .success(try SocketIO.send(fd, UnsafeRawBufferPointer(rebasing: raw[offset...]))) } catch { return .failure(error) }
            }.get()
            guard case .bytes(let n) = progress else { writable = false; return false }
            outputOffset += n
        }
        while let file, fileRemaining > 0 {
            switch try SocketIO.sendFile(fd, file: file.fileDescriptor, offset: &fileOffset, count: Int(fileRemaining)) {
            case .bytes(let n): fileRemaining -= Int64(n)
            case .wouldBlock: writable = false; return false
            case .endOfStream: throw SystemError(call: "sendfile", target: "file shrank while being sent", errno: EIO)
            }
        }
        return true
    }

    /// Forgets the finished request and response, keeping bytes of a pipelined next request.
    func reset(now: Double, idleTimeout: Double) {
        sink?.discard()
        sink = nil
        head = nil
        request = nil
        route = nil
        admittedHeaders = HTTPHeaders()
        chunked = nil
        remaining = 0
        output = []
        outputOffset = 0
        file = nil
        fileRemaining = 0
        phase = .idle
        phaseStart = now
        deadline = now + idleTimeout
        scanned = 0
    }
}
