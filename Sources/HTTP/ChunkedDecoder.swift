/// Decodes a `Transfer-Encoding: chunked` body incrementally (RFC 9112 §7.1).
///
/// Bytes go in as they arrive; chunk data comes out through `emit`. Chunk extensions are
/// ignored, trailer fields are read and dropped. Size lines and trailers are bounded.
struct ChunkedDecoder {
    private enum State {
        case size
        case data(remaining: Int64)
        case dataEnd
        case trailer
        case done
    }

    static let maxLineBytes = 4096
    static let maxTrailerBytes = 16 * 1024

    private var state = State.size
    private var line: [UInt8] = []
    private var trailerBytes = 0

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes bytes from `input` and returns how many it used (fewer than all only once
    /// the body is complete: the rest belongs to the next pipelined request).
    mutating func feed(_ input: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws(HTTPError) -> Void) throws(HTTPError) -> Int {
        var i = input.startIndex
        while i < input.endIndex {
            switch state {
            case .done:
                return i - input.startIndex
            case .data(let remaining):
                let n = Int(min(Int64(input.endIndex - i), remaining))
                try emit(input[i..<(i + n)])
                i += n
                state = remaining == Int64(n) ? .dataEnd : .data(remaining: remaining - Int64(n))
            case .size, .dataEnd, .trailer:
                let b = input[i]
                i += 1
                guard b == 10 else {
                    line.append(b)
                    if line.count > Self.maxLineBytes { throw Self.bad("a chunk size or trailer line is longer than \(Self.maxLineBytes) bytes") }
                    continue
                }
                if line.last == 13 { line.removeLast() }
                try endOfLine()
                line.removeAll(keepingCapacity: true)
            }
        }
        return i - input.startIndex
    }

    private mutating func endOfLine() throws(HTTPError) {
        switch state {
        case .size:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 0x09 }
            guard !digits.isEmpty, digits.count <= 15, let size = Int64(String(decoding: digits, as: UTF8.self), radix: 16), size >= 0 else {
                throw Self.bad("invalid chunk size line '\(String(decoding: line.prefix(32), as: UTF8.self))'")
            }
            state = size == 0 ? .trailer : .data(remaining: size)
        case .dataEnd:
            guard line.isEmpty else { throw Self.bad("chunk data longer than its declared size") }
            state = .size
        case .trailer:
            if line.isEmpty {
                state = .done
            } else {
                trailerBytes += line.count
                if trailerBytes > Self.maxTrailerBytes { throw Self.bad("trailer fields larger than 16 KiB") }
            }
        case .data, .done:
            break
        }
    }

    private static func bad(_ message: String) -> HTTPError {
        HTTPError(400, "malformed chunked body: " + message, closesConnection: true)
    }
}
