/// The entry point for reading any supported input file.
public enum FeatureReaders {
    /// Opens `path`, detects the format from content (not only extension), returns a streaming reader.
    /// `displayName` is used in error messages (defaults to the path).
    ///
    /// Refuses clearly: empty files, files over `limits.maxFileBytes`, UTF-16 text, gzip
    /// archives and anything that is not KML, KMZ, GPX or GeoJSON.
    public static func open(path: String, displayName: String? = nil, limits: ReaderLimits = .default) throws(FormatError) -> any FeatureReader {
        let name = displayName ?? path
        let file = try FileInput(path: path, name: name, followSymlinks: limits.followSymlinks)
        file.shouldStop = limits.shouldStop
        guard file.size > 0 else {
            throw FormatError.malformed(file: name, line: nil, column: nil, message: "file is empty (0 bytes); nothing to convert")
        }
        guard file.size <= limits.maxFileBytes else {
            throw FormatError.limitExceeded(file: name, message: "file is \(file.size >> 20) MiB, over the \(limits.maxFileBytes >> 20) MiB limit (ReaderLimits.maxFileBytes)")
        }
        let head = try file.bytes(at: 0, count: 8192)
        let detected = head.withUnsafeBytes { InputFormat.detect(head: $0, name: name) }
        guard let format = detected else { throw unrecognised(head, name: name) }
        switch format {
        case .geojson, .geojsonSeq:
            return GeoJSONReader(input: file, name: name, limits: limits, format: format)
        case .kml:
            return KMLReader(input: file, name: name, limits: limits, format: .kml)
        case .gpx:
            return GPXReader(file: file, name: name, limits: limits)
        case .kmz:
            let archive = try ZipArchive(file: file)
            guard let entry = archive.mainKML() else {
                throw FormatError.unsupported(file: name, message: "KMZ archive holds no .kml file (entries: \(archive.entries.prefix(5).map(\.name).joined(separator: ", "))); nothing to convert")
            }
            let input = try KMZInput(file: file, archive: archive, entry: entry, limits: limits)
            return KMLReader(input: input, name: name, limits: limits, format: .kmz)
        }
    }

    /// Explains why a file's first bytes are not a supported format.
    static func unrecognised(_ head: [UInt8], name: String) -> FormatError {
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) {
            return .unsupported(file: name, message: "file is UTF-16 encoded; re-save it as UTF-8")
        }
        if head.starts(with: [0x1F, 0x8B]) {
            return .unsupported(file: name, message: "file is gzip-compressed; decompress it (gunzip) and drop the result")
        }
        if head.starts(with: [0x50, 0x4B]) {
            return .unsupported(file: name, message: "zip archive that is not a KMZ (no local file header at the start)")
        }
        let body = head.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF })
        if body.first == UInt8(ascii: "<") {
            return .unsupported(file: name, message: "XML document whose root element is not <kml> or <gpx>; only KML, KMZ, GPX and GeoJSON can be converted")
        }
        return .unsupported(file: name, message: "not KML, KMZ, GPX or GeoJSON (unrecognised content at the start of the file)")
    }
}
