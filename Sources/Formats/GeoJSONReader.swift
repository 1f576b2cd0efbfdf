import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Streams features out of GeoJSON (RFC 7946) and line-delimited GeoJSON without loading the file.
///
/// The reader scans bytes for the structure around features — the top-level object's members,
/// the `features` array, or the values of a sequence (GeoJSONSeq/NDJSON, RFC 8142 RS-separated) —
/// and hands each feature's bytes to `JSONParser`, so memory is one read chunk plus the largest
/// feature. Accepted top levels: FeatureCollection, Feature, bare geometry (GeometryCollection
/// too), MapHub's top-level `groups`, a legacy `crs` naming WGS 84 (anything else is refused).
/// A bad feature is skipped with a warning; bad JSON fails the file with line and column.
final class GeoJSONReader: FeatureReader {
    private(set) var format: InputFormat
    private var warningLog: WarningLog
    var warnings: [FormatWarning] { warningLog.list }
    private(set) var groups: [FeatureGroup] = []
    var bytesRead: Int { window.input.consumed }

    private enum State {
        case start
        case topMembers(first: Bool)
        case features(first: Bool)
        case sequence
        case done
    }

    private let window: ByteWindow
    private let name: String
    private let limits: ReaderLimits
    private var state = State.start
    /// Absolute offset of the next unread byte.
    private var pos = 0
    private var line = 1
    private var lineStart = 0
    private var featureIndex = 0
    private var topValues = 0
    private var topLine = 1
    /// Members of the top-level object other than `features` (small: type, crs, name, bbox …).
    private var top = JSONObject()
    private var sawFeatures = false
    /// Features of a FeatureCollection met inside a sequence, waiting to be handed out.
    private var pending: [(value: JSONValue, line: Int)] = []

    init(input: ByteInput, name: String, limits: ReaderLimits, format: InputFormat) {
        warningLog = WarningLog(limit: limits.maxWarnings)
        self.window = ByteWindow(input: input, name: name, maxKeep: limits.maxFeatureBytes)
        self.name = name
        self.limits = limits
        self.format = format
    }

    func next() throws(FormatError) -> Feature? {
        while true {
            if !pending.isEmpty {
                let (value, line) = pending.removeFirst()
                if let f = decode(value, line: line, allowGeometry: false) { return f }
                continue
            }
            switch state {
            case .start:
                try begin()
            case .topMembers(let first):
                if let f = try topMember(first: first) { return f }
            case .features(let first):
                try skipSpace()
                guard let b = try peek() else { throw truncated("inside the \"features\" array") }
                if b == UInt8(ascii: "]") {
                    pos += 1
                    state = .topMembers(first: false)
                    continue
                }
                if !first {
                    try expect(UInt8(ascii: ","), "',' or ']' between features")
                    try skipSpace()
                }
                state = .features(first: false)
                if let f = try readFeature(allowGeometry: false) { return f }
            case .sequence:
                try skipSpace(recordSeparators: true)
                guard try peek() != nil else {
                    state = .done
                    return nil
                }
                format = .geojsonSeq
                topValues += 1
                if let f = try readFeature(allowGeometry: true) { return f }
                let (value, line) = try readValue()
                if value["type"]?.stringValue == "FeatureCollection" {
                    try readCollection(value, line: line)
                    continue
                }
                if let f = decode(value, line: line, allowGeometry: true) { return f }
            case .done:
                return nil
            }
        }
    }

    // MARK: Top level

    private func begin() throws(FormatError) {
        while window.end - pos < 3, try window.fill(keepingFrom: pos) {}
        if window.end - pos >= 3, window[pos] == 0xEF, window[pos + 1] == 0xBB, window[pos + 2] == 0xBF {
            pos += 3
            lineStart = pos
        }
        try skipSpace(recordSeparators: true)
        guard let b = try peek() else {
            throw FormatError.malformed(file: name, line: nil, column: nil, message: window.end == 0 ? "file is empty (0 bytes); nothing to convert" : "file holds no JSON value, only whitespace")
        }
        switch b {
        case 0x1E:
            format = .geojsonSeq
            state = .sequence
        case UInt8(ascii: "{"):
            topLine = line
            pos += 1
            topValues = 1
            state = .topMembers(first: true)
        case UInt8(ascii: "["):
            throw FormatError.unsupported(file: name, message: "top-level JSON array; GeoJSON needs a FeatureCollection, Feature or geometry object (wrap the array as {\"type\":\"FeatureCollection\",\"features\":[...]})")
        default:
            let (value, _) = try readValue()
            throw FormatError.unsupported(file: name, message: "top-level JSON \(value.typeName) is not GeoJSON; expected a FeatureCollection, Feature or geometry object")
        }
    }

    /// Reads the next member of the top-level object; streams into `features` when met.
    private func topMember(first: Bool) throws(FormatError) -> Feature? {
        try skipSpace()
        guard let b = try peek() else { throw truncated("inside the top-level object") }
        if b == UInt8(ascii: "}") {
            pos += 1
            state = .sequence
            return try finishTop()
        }
        if !first { try expect(UInt8(ascii: ","), "',' or '}' in the top-level object") }
        try skipSpace()
        guard try peek() == UInt8(ascii: "\"") else { throw malformedHere("expected a quoted member name in the top-level object") }
        let (keyValue, _) = try readValue()
        guard let key = keyValue.stringValue else { throw malformedHere("expected a member name") }
        try skipSpace()
        try expect(UInt8(ascii: ":"), "':' after member name \"\(key)\"")
        try skipSpace()
        state = .topMembers(first: false)
        if key == "features", try peek() == UInt8(ascii: "[") {
            pos += 1
            sawFeatures = true
            state = .features(first: true)
            return nil
        }
        let (value, _) = try readValue()
        switch key {
        case "crs": try checkCRS(value)
        case "groups": readGroups(value)
        case "type", "features": top[key] = value
        default: if !sawFeatures { top[key] = value }
        }
        return nil
    }

    /// Called at the closing brace of the top-level object: yields it when it was a lone
    /// Feature or geometry, checks it when it was a FeatureCollection.
    private func finishTop() throws(FormatError) -> Feature? {
        let type = top["type"]?.stringValue
        if sawFeatures {
            if let type, type != "FeatureCollection" {
                warningLog.append(FormatWarning(message: "top-level object has a \"features\" array but \"type\": \"\(type)\"; read as a FeatureCollection"))
            }
            return nil
        }
        if type == "FeatureCollection" {
            let found = top["features"].map { "is \($0.typeName)" } ?? "is missing"
            throw FormatError.unsupported(file: name, message: "FeatureCollection's \"features\" member \(found); it must be an array of Features (RFC 7946 §3.3)")
        }
        let value = JSONValue.object(top)
        top = JSONObject()
        guard type != nil else {
            throw FormatError.unsupported(file: name, message: "top-level object has no \"type\" member; it is not GeoJSON (RFC 7946 §3)")
        }
        if let f = decode(value, line: topLine, allowGeometry: true) { return f }
        return nil
    }

    /// A FeatureCollection inside a sequence: queue its features.
    private func readCollection(_ value: JSONValue, line: Int) throws(FormatError) {
        if let crs = value["crs"] { try checkCRS(crs) }
        if let g = value["groups"] { readGroups(g) }
        guard case .array(let items)? = value["features"] else {
            warningLog.append(FormatWarning(message: "line \(line): FeatureCollection without a \"features\" array skipped", line: line))
            return
        }
        pending.append(contentsOf: items.map { ($0, line) })
    }

    /// Accepts a legacy (2008) `crs` only when it names WGS 84 longitude/latitude.
    private func checkCRS(_ crs: JSONValue) throws(FormatError) {
        if crs == .null { return }
        let crsName = crs["properties"]?["name"]?.stringValue ?? crs["properties"]?["code"].map { "EPSG:\(JSONWriter.string($0))" } ?? JSONWriter.string(crs)
        let upper = crsName.uppercased()
        let wgs84 = ["CRS84", "CRS:84", "EPSG::4326", "EPSG:4326", "EPSG:4326:", "EPSG::4979", "EPSG:4979"]
        if wgs84.contains(where: { upper.hasSuffix($0) }) || upper == "WGS84" { return }
        throw FormatError.unsupported(file: name, message: "coordinate reference system \"\(crsName)\" is not WGS 84 longitude/latitude; reproject first, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`")
    }

    /// MapHub's top-level `"groups": [{"id": 1, "title": "…"}]`.
    private func readGroups(_ value: JSONValue) {
        guard case .array(let items) = value else {
            warningLog.append(FormatWarning(message: "top-level \"groups\" is not an array; ignored"))
            return
        }
        for item in items {
            guard let id = item["id"], id != .null else {
                warningLog.append(FormatWarning(message: "a \"groups\" entry without an \"id\" ignored"))
                continue
            }
            let title = item["title"]?.stringValue ?? item["name"]?.stringValue ?? JSONWriter.string(id)
            groups.append(FeatureGroup(id: id, title: title))
        }
    }

    /// Turns one parsed value into a feature, or records why it was skipped.
    private func decode(_ value: JSONValue, line: Int, allowGeometry: Bool) -> Feature? {
        let index = featureIndex
        featureIndex += 1
        var notes: [String] = []
        do throws(FormatError) {
            let feature: Feature
            if allowGeometry, let type = value["type"]?.stringValue, type != "Feature" {
                feature = Feature(geometry: try GeoJSONCoding.geometry(from: value, depth: 0, notes: &notes))
            } else {
                feature = try GeoJSONCoding.feature(from: value, notes: &notes)
            }
            for n in notes { warningLog.append(.feature(index, line: line, n)) }
            return feature
        } catch {
            warningLog.append(.feature(index, line: line, "\(error.reason); skipped"))
            return nil
        }
    }

    // MARK: Byte scanning

    /// Reads the next value as a Feature: the fast `GeoJSONFeatureDecoder` first; when it
    /// declines, the generic parse + `decode` (which reports errors and warnings precisely).
    /// In a sequence (`allowGeometry`) a value the fast path declines is left unread (`pos`
    /// unchanged, nil returned) so the caller can look at it generically.
    private func readFeature(allowGeometry: Bool) throws(FormatError) -> Feature? {
        // Straight on the window, without the pre-scan: almost every feature is whole in it.
        if pos < window.end, let (f, n) = GeoJSONFeatureDecoder.decode(window.bytes(pos..<window.end), maxDepth: limits.maxNesting) {
            countLines(upTo: pos + n)
            pos += n
            featureIndex += 1
            return f
        }
        let startPos = pos
        let startLine = line, startLineStart = lineStart
        let (start, end) = try scanValue()
        if let (f, n) = GeoJSONFeatureDecoder.decode(window.bytes(start..<end), maxDepth: limits.maxNesting), n == end - start {
            featureIndex += 1
            window.shrinkIfLarge(keepingFrom: pos)
            return f
        }
        pos = startPos
        line = startLine
        lineStart = startLineStart
        if allowGeometry { return nil }
        let (value, valueLine) = try readValue()
        return decode(value, line: valueLine, allowGeometry: false)
    }

    /// Scans the JSON value at `pos` to find its end, then parses exactly those bytes.
    private func readValue() throws(FormatError) -> (JSONValue, line: Int) {
        let startLine = line
        let startColumn = pos - lineStart + 1
        let (start, end) = try scanValue()
        do {
            let v = try JSONParser.parse(window.bytes(start..<end), maxDepth: limits.maxNesting)
            window.shrinkIfLarge(keepingFrom: pos)
            return (v, startLine)
        } catch {
            let errLine = startLine + error.line - 1
            let errColumn = error.line == 1 ? startColumn + error.column - 1 : error.column
            throw FormatError.malformed(file: name, line: errLine, column: errColumn, message: error.message)
        }
    }

    /// Finds the extent of the value at `pos` (strings, nesting, scalars) and moves `pos` past it.
    ///
    /// This is the hot loop: it touches every byte once, counts lines, and refills the
    /// window keeping the value's first byte, so a value may span any number of chunks.
    private func scanValue() throws(FormatError) -> (Int, Int) {
        let start = pos
        var i = pos
        var depth = 0
        var inString = false
        let maxDepth = limits.maxNesting
        while true {
            let end = window.end
            let base = window.base
            let p = window.storage
            while i < end {
                let b = p.load(fromByteOffset: i - base, as: UInt8.self)
                if inString {
                    if b == 0x5C { i += 2; continue }
                    if b == 0x22 {
                        inString = false
                        if depth == 0 { pos = i + 1; return (start, i + 1) }
                    }
                    i += 1
                    continue
                }
                switch b {
                case 0x22: inString = true
                case 0x7B, 0x5B:
                    depth += 1
                    if depth > maxDepth {
                        throw FormatError.limitExceeded(file: name, message: "line \(line): JSON nested deeper than \(maxDepth) levels (ReaderLimits.maxNesting)")
                    }
                case 0x7D, 0x5D:
                    if depth <= 1 {
                        let stop = depth == 0 ? i : i + 1
                        pos = stop
                        return (start, stop)
                    }
                    depth -= 1
                case 0x0A:
                    if depth == 0 { pos = i; return (start, i) }
                    line += 1
                    lineStart = i + 1
                case 0x2C, 0x20, 0x09, 0x0D, 0x1E:
                    if depth == 0 { pos = i; return (start, i) }
                default: break
                }
                i += 1
            }
            guard try window.fill(keepingFrom: start) else {
                if depth == 0, !inString, i > start {
                    pos = i
                    return (start, i)
                }
                throw truncated(inString ? "inside a string" : "inside a value")
            }
        }
    }

    /// Advances the line count over the newlines in `pos..<end` (a feature spanning lines).
    private func countLines(upTo end: Int) {
        var i = pos
        while i < end, let hit = memchr(window.storage + (i - window.base), 0x0A, end - i) {
            i = window.base + (UnsafeMutableRawPointer(hit) - window.storage) + 1
            line += 1
            lineStart = i
        }
    }

    private func skipSpace(recordSeparators: Bool = false) throws(FormatError) {
        while true {
            while pos < window.end {
                switch window[pos] {
                case 0x20, 0x09, 0x0D: pos += 1
                case 0x0A:
                    pos += 1
                    line += 1
                    lineStart = pos
                case 0x1E where recordSeparators: pos += 1
                default: return
                }
            }
            guard try window.fill(keepingFrom: pos) else { return }
        }
    }

    private func peek() throws(FormatError) -> UInt8? {
        if pos < window.end { return window[pos] }
        if try window.fill(keepingFrom: pos) { return window[pos] }
        return nil
    }

    private func expect(_ byte: UInt8, _ what: String) throws(FormatError) {
        guard let b = try peek() else { throw truncated("where \(what) was expected") }
        guard b == byte else { throw malformedHere("expected \(what), found \(Self.describe(b))") }
        pos += 1
    }

    private func malformedHere(_ message: String) -> FormatError {
        .malformed(file: name, line: line, column: pos - lineStart + 1, message: message)
    }

    private func truncated(_ whereText: String) -> FormatError {
        malformedHere("unexpected end of file \(whereText); the file is truncated")
    }

    private static func describe(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
    }
}
