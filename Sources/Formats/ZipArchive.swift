/// A read-only view of a zip archive's central directory (PKWARE APPNOTE 6.3.x §4.3), enough for KMZ.
///
/// Only what KMZ needs: stored (0) and deflated (8) entries, no encryption, no ZIP64, no
/// multi-disk archives — each refused with a clear error rather than misread. Nothing is
/// extracted to disk: `KMZInput` inflates the chosen entry while the KML reader pulls bytes.
struct ZipArchive {
    struct Entry {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
        var isDirectory: Bool { name.hasSuffix("/") }
        var depth: Int { name.split(separator: "/").count - 1 }
    }

    let entries: [Entry]

    init(file: FileInput) throws(FormatError) {
        let name = file.name
        let tailLength = min(file.size, 65_535 + 22)
        let tail = try file.bytes(at: file.size - tailLength, count: tailLength)
        guard tail.count >= 22, let eocd = Self.lastSignature(0x0605_4B50, in: tail) else {
            throw FormatError.malformed(file: name, line: nil, column: nil, message: "zip end-of-central-directory record not found; the KMZ is truncated or not a zip archive")
        }
        let count = Int(Self.u16(tail, eocd + 10))
        let cdSize = Int(Self.u32(tail, eocd + 12))
        let cdOffset = Int(Self.u32(tail, eocd + 16))
        if cdOffset == 0xFFFF_FFFF || count == 0xFFFF {
            throw FormatError.unsupported(file: name, message: "ZIP64 archives are not supported for KMZ; re-zip the KML with a standard zip tool")
        }
        guard cdOffset + cdSize <= file.size else {
            throw FormatError.malformed(file: name, line: nil, column: nil, message: "zip central directory lies outside the file; the KMZ is truncated")
        }
        let cd = try file.bytes(at: cdOffset, count: cdSize)
        var entries: [Entry] = []
        var p = 0
        for _ in 0..<count {
            guard p + 46 <= cd.count, Self.u32(cd, p) == 0x0201_4B50 else {
                throw FormatError.malformed(file: name, line: nil, column: nil, message: "corrupt zip central directory (entry \(entries.count + 1))")
            }
            let nameLength = Int(Self.u16(cd, p + 28))
            let extraLength = Int(Self.u16(cd, p + 30))
            let commentLength = Int(Self.u16(cd, p + 32))
            guard p + 46 + nameLength <= cd.count else {
                throw FormatError.malformed(file: name, line: nil, column: nil, message: "corrupt zip central directory (entry name)")
            }
            let entryName = String(decoding: cd[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            entries.append(Entry(name: entryName, method: Self.u16(cd, p + 10), flags: Self.u16(cd, p + 8), crc32: Self.u32(cd, p + 16),
                                 compressedSize: Int(Self.u32(cd, p + 20)), uncompressedSize: Int(Self.u32(cd, p + 24)),
                                 localHeaderOffset: Int(Self.u32(cd, p + 42))))
            p += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    /// The KML a KMZ means: `doc.kml` at the root, else the first `.kml` at the shallowest level.
    func mainKML() -> Entry? {
        let kmls = entries.filter { !$0.isDirectory && $0.name.lowercased().hasSuffix(".kml") && !$0.name.hasPrefix("__MACOSX/") }
        if let doc = kmls.first(where: { $0.name.lowercased() == "doc.kml" }) { return doc }
        guard let depth = kmls.map(\.depth).min() else { return nil }
        return kmls.first(where: { $0.depth == depth })
    }

    /// Offset of the entry's data, after its local file header (§4.3.7).
    func dataOffset(of entry: Entry, file: FileInput) throws(FormatError) -> Int {
        let header = try file.bytes(at: entry.localHeaderOffset, count: 30)
        guard header.count == 30, Self.u32(header, 0) == 0x0403_4B50 else {
            throw FormatError.malformed(file: file.name, line: nil, column: nil, message: "zip local header of \(entry.name) is missing; the KMZ is corrupt")
        }
        return entry.localHeaderOffset + 30 + Int(Self.u16(header, 26)) + Int(Self.u16(header, 28))
    }

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(u16(b, i)) | UInt32(u16(b, i + 2)) << 16 }

    private static func lastSignature(_ sig: UInt32, in b: [UInt8]) -> Int? {
        var i = b.count - 22
        while i >= 0 {
            if u32(b, i) == sig { return i }
            i -= 1
        }
        return nil
    }
}
