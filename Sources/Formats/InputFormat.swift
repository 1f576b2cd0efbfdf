/// The input formats tiledrop converts, detected from a file's first bytes.
///
/// `geojsonSeq` covers every line-delimited variant: GeoJSONSeq / NDJSON (one value per
/// line) and RFC 8142 record-separator sequences. KMZ is reported as `kmz` even though its
/// content is read by the KML reader.
public enum InputFormat: String, Sendable {
    case geojson, geojsonSeq, kml, kmz, gpx

    /// Detects the format from the start of a file (`head`, a few KiB) and its name.
    ///
    /// Content wins over the extension: a `.json` file holding KML is read as KML. The name
    /// only separates GeoJSON from GeoJSONSeq when the content cannot (both start with `{`).
    /// Returns nil when the content is none of the supported formats.
    static func detect(head: UnsafeRawBufferPointer, name: String) -> InputFormat? {
        var i = 0
        if head.count >= 3, head[0] == 0xEF, head[1] == 0xBB, head[2] == 0xBF { i = 3 }
        if head.count >= 4, head[0] == 0x50, head[1] == 0x4B, head[2] == 0x03, head[3] == 0x04 { return .kmz }
        while i < head.count, isSpace(head[i]) { i += 1 }
        guard i < head.count else { return nil }
        switch head[i] {
        case 0x1E: return .geojsonSeq
        case UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            // Valid JSON but not GeoJSON at the top level: let the GeoJSON reader say so precisely.
            return .geojson
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            let word = String(decoding: UnsafeRawBufferPointer(rebasing: head[i..<min(i + 5, head.count)]), as: UTF8.self)
            return word.hasPrefix("true") || word.hasPrefix("false") || word.hasPrefix("null") ? .geojson : nil
        case UInt8(ascii: "{"):
            let lower = name.lowercased()
            for ext in [".geojsonl", ".geojsons", ".geojsonseq", ".ndjson", ".jsonl", ".ldjson", ".geojsonld"] where lower.hasSuffix(ext) {
                return .geojsonSeq
            }
            return .geojson
        case UInt8(ascii: "<"):
            switch rootElementName(head, from: i) {
            case "kml": return .kml
            case "gpx": return .gpx
            default: return nil
            }
        default: return nil
        }
    }

    /// The local name of the first element, skipping the XML declaration, comments,
    /// processing instructions and a DOCTYPE; nil when not found in `head`.
    static func rootElementName(_ head: UnsafeRawBufferPointer, from start: Int) -> String? {
        var i = start
        func hasPrefix(_ s: StaticString, at j: Int) -> Bool {
            let n = s.utf8CodeUnitCount
            guard j + n <= head.count else { return false }
            for k in 0..<n where head[j + k] != s.utf8Start[k] { return false }
            return true
        }
        while i < head.count {
            guard head[i] == UInt8(ascii: "<") else { i += 1; continue }
            if hasPrefix("<!--", at: i) {
                i += 4
                while i < head.count, !hasPrefix("-->", at: i) { i += 1 }
                i += 3
            } else if i + 1 < head.count, head[i + 1] == UInt8(ascii: "?") || head[i + 1] == UInt8(ascii: "!") {
                // Declaration, PI or DOCTYPE: skip to the matching '>' (an internal subset has brackets).
                var bracket = 0
                i += 2
                while i < head.count {
                    let b = head[i]
                    if b == UInt8(ascii: "[") { bracket += 1 } else if b == UInt8(ascii: "]") { bracket -= 1 } else if b == UInt8(ascii: ">"), bracket <= 0 { break }
                    i += 1
                }
                i += 1
            } else {
                var j = i + 1
                var nameStart = j
                while j < head.count, !isSpace(head[j]), head[j] != UInt8(ascii: ">"), head[j] != UInt8(ascii: "/") {
                    if head[j] == UInt8(ascii: ":") { nameStart = j + 1 }
                    j += 1
                }
                guard j < head.count || j > nameStart else { return nil }
                return String(decoding: UnsafeRawBufferPointer(rebasing: head[nameStart..<j]), as: UTF8.self).lowercased()
            }
        }
        return nil
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}
