import GeoModel

/// Random access to a map's source file: the bytes or the feature at a known offset, as the
/// spatial index recorded it. Opened without following a symbolic link (`FileInput`).
public final class SourceFile {
    private let input: FileInput
    public let path: String

    public init(path: String) throws(FormatError) {
        input = try FileInput(path: path, name: path, followSymlinks: false)
        self.path = path
    }

    /// The file's size when it was opened.
    public var size: Int64 { Int64(input.size) }

    /// `count` bytes at `offset`; fewer only at the end of the file.
    public func bytes(at offset: Int64, count: Int) throws(FormatError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var result: Result<Int, FormatError> = .success(0)
        out.withUnsafeMutableBytes { raw in
            result = Result { () throws(FormatError) in try input.read(into: raw, at: Int(offset)) }
        }
        let n = try result.get()
        if n < count { out.removeLast(count - n) }
        return out
    }

    /// The feature on the line at `offset` of `length` bytes; throws when the file no longer
    /// holds a whole line there (it changed since it was indexed), nil when the line is not a
    /// valid feature.
    public func feature(at offset: Int64, length: Int) throws(FormatError) -> Feature? {
        let line = try bytes(at: offset, count: length + 1)
        let whole = (line.count == length + 1 && line[length] == 0x0A) || (line.count == length && offset + Int64(length) == size)
        guard whole else {
            throw FormatError.malformed(file: path, line: nil, column: nil, message: "no whole line of \(length) bytes at byte \(offset); the file changed since it was indexed")
        }
        return line.withUnsafeBytes { SourceLineReader.decode(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }
}
