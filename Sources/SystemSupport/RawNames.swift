#if canImport(Glibc)
import Glibc
#endif

/// Directory entries whose names are not valid UTF-8, which Swift `String` paths cannot name.
///
/// Linux file names are bytes; a Windows-1252 "café.kml" copied by an old tool is
/// `caf\xE9.kml`. `FileSystem.list` decodes names as UTF-8, so such a file could never be
/// opened by the name it reports. These helpers find those entries by their bytes and give
/// them a UTF-8 name (`RawNames.escaped`) with `rename(2)` on the raw bytes.
public enum RawNames {
    /// `opendir`/`readdir`: the names in `path` that are not valid UTF-8, as bytes.
    public static func invalidNames(in path: String) throws(SystemError) -> [[UInt8]] {
        guard let dir = opendir(path) else { throw SystemError(call: "opendir", target: path, errno: errno) }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if String(validating: bytes, as: UTF8.self) == nil { names.append(bytes) }
        }
        return names
    }

    /// The name with every byte that is not part of valid UTF-8 written as `%XX` (and `%` itself
    /// as `%25`, so two different names never map to one).
    public static func escaped(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let length = sequenceLength(bytes, at: i)
            if length == 0 || bytes[i] == 0x25 {
                out += Array("%".utf8) + hex(bytes[i])
                i += 1
            } else {
                out += bytes[i..<(i + length)]
                i += length
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `rename(2)` of the entry `name` (raw bytes) in `folder` to `newName` in the same folder.
    public static func rename(_ name: [UInt8], in folder: String, to newName: String) throws(SystemError) {
        let from = Array(folder.utf8) + [0x2F] + name + [0]
        let to = folder + "/" + newName
        _ = try retryingEINTR("rename", to) {
            from.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { Glibc.rename($0.baseAddress!, to) }
            }
        }
    }

    /// The length of the valid UTF-8 sequence starting at `i`, or 0 when it is not valid.
    private static func sequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        let length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0
        guard length > 0, i + length <= b.count else { return 0 }
        return String(validating: b[i..<(i + length)], as: UTF8.self) == nil ? 0 : length
    }

    private static func hex(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
    }
}
