/// A `Range` request header applied to a representation of known length (RFC 9110 §14).
///
/// Only single `bytes` ranges are served as 206: `bytes=first-last`, `bytes=first-` and the
/// suffix form `bytes=-count`. A header with several ranges, another unit or bad syntax is
/// ignored (the whole representation is sent, as §14.2 allows); a range starting at or past
/// the end is unsatisfiable (416 with `Content-Range: bytes */length`).
public enum ByteRange: Sendable, Equatable {
    /// No usable `Range`: send everything with 200.
    case whole
    /// Send `length` bytes from `offset` with 206 and `Content-Range`.
    case partial(offset: Int64, length: Int64)
    /// 416 Range Not Satisfiable.
    case unsatisfiable

    /// Interprets `header` (the `Range` field value, or nil) for a representation of `size` bytes.
    public init(header: String?, size: Int64) {
        guard let header else {
            self = .whole
            return
        }
        let trimmed = header.trimmingCharacters(in: " \t")
        guard trimmed.lowercased().hasPrefix("bytes="), !trimmed.contains(",") else {
            self = .whole
            return
        }
        let spec = trimmed.dropFirst(6).trimmingCharacters(in: " \t")
        guard let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit), !(first.isEmpty && last.isEmpty),
              first.count <= 18, last.count <= 18 else {
            self = .whole
            return
        }
        if first.isEmpty {
            // Suffix range: the last `count` bytes.
            let count = Int64(last)!
            guard count > 0, size > 0 else {
                self = .unsatisfiable
                return
            }
            let length = min(count, size)
            self = .partial(offset: size - length, length: length)
            return
        }
        let start = Int64(first)!
        guard start < size else {
            self = .unsatisfiable
            return
        }
        let end = last.isEmpty ? size - 1 : min(Int64(last)!, size - 1)
        guard end >= start else {
            self = .whole   // first > last is invalid syntax (§14.1.1): ignored
            return
        }
        self = .partial(offset: start, length: end - start + 1)
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
