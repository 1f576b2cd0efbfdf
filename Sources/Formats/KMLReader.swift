import GeoModel

/// Streams features out of KML 2.1/2.2 (with gx extensions), from a .kml file or a KMZ entry.
///
/// The document is tokenized by `XMLScanner`; each Placemark, GroundOverlay or NetworkLink
/// is built into a small `XMLNode` tree and converted with togeojson's conventions
/// (`KMLPlacemark`). Shared `<Style>`/`<StyleMap>` and `<Schema>` definitions are remembered
/// as they stream past, so a `styleUrl` resolves against styles defined earlier in the
/// file (Google Earth, My Maps, GDAL and QGIS all write styles first). `<Folder>` nesting
/// becomes the `@folder` property and `groups` (see `FeatureGroup`). Namespace prefixes
/// (`kml:`, `gx:`) are ignored, so KML 2.1, 2.2 and prefixed documents read alike.
final class KMLReader: FeatureReader {
    let format: InputFormat
    private(set) var warnings: [FormatWarning] = []
    private(set) var groups: [FeatureGroup] = []
    var bytesRead: Int { scanner.bytesRead }

    private struct Container {
        var isFolder: Bool
        var depth: Int
        var name: String?
    }

    private let scanner: XMLScanner
    private let name: String
    private let limits: ReaderLimits
    private var styles = KMLStyleTable()
    private var schema: [String: String] = [:]
    private var containers: [Container] = []
    private var knownGroups: Set<String> = []
    private var featureIndex = 0
    private var sawRoot = false

    init(input: ByteInput, name: String, limits: ReaderLimits, format: InputFormat) {
        self.scanner = XMLScanner(input: input, name: name, limits: limits)
        self.name = name
        self.limits = limits
        self.format = format
    }

    func next() throws(FormatError) -> Feature? {
        while true {
            switch try scanner.next() {
            case let .start(element, _, attributes, selfClosing):
                if !sawRoot {
                    sawRoot = true
                    // KML fragments (a bare <Document> or <Placemark> root, as some KMZ writers
                    // produce) are read as if wrapped in <kml>.
                    if element == "kml" { continue }
                    if element == "gpx" {
                        throw FormatError.unsupported(file: name, message: "root element is <gpx>; a KMZ must contain KML")
                    }
                }
                if let f = try start(element, attributes, selfClosing) { return f }
            case let .end(element):
                if element == "Folder" || element == "Document", let last = containers.last, last.depth == scanner.depth + 1 {
                    containers.removeLast()
                }
            case .text:
                continue
            case .endOfDocument:
                return nil
            }
        }
    }

    private func start(_ element: String, _ attributes: [XMLAttribute], _ selfClosing: Bool) throws(FormatError) -> Feature? {
        switch element {
        case "Placemark", "GroundOverlay", "NetworkLink":
            let line = scanner.line
            let node = try build(element, attributes, selfClosing)
            return convert(node, line: line)
        case "Style", "StyleMap", "CascadingStyle":
            styles.register(try build(element, attributes, selfClosing))
        case "Schema":
            for field in try build(element, attributes, selfClosing).all("SimpleField") {
                if let n = field.attribute("name") { schema[n] = field.attribute("type") ?? "string" }
            }
        case "Folder", "Document":
            if !selfClosing { containers.append(Container(isFolder: element == "Folder", depth: scanner.depth, name: nil)) }
        case "name":
            if let last = containers.last, last.name == nil, scanner.depth == last.depth + 1 || (selfClosing && scanner.depth == last.depth) {
                containers[containers.count - 1].name = try build(element, attributes, selfClosing).textContent.trimmed
            }
        default:
            break
        }
        return nil
    }

    private func build(_ element: String, _ attributes: [XMLAttribute], _ selfClosing: Bool) throws(FormatError) -> XMLNode {
        do {
            return try XMLNode.read(scanner, name: element, attributes: attributes, selfClosing: selfClosing, maxBytes: limits.maxFeatureBytes)
        } catch {
            if case let .limitExceeded(_, message) = error { throw FormatError.limitExceeded(file: name, message: message) }
            throw error
        }
    }

    /// The folder path of the current position ("Outer / Inner"), nil outside any Folder.
    private var folderPath: String? {
        let names = containers.filter(\.isFolder).map { $0.name ?? "Untitled folder" }
        return names.isEmpty ? nil : names.joined(separator: " / ")
    }

    private func convert(_ node: XMLNode, line: Int) -> Feature? {
        let index = featureIndex
        featureIndex += 1
        do throws(FormatError) {
            var notes: [String] = []
            var feature = try KMLPlacemark.feature(from: node, styles: styles, schema: schema, notes: &notes)
            for n in notes { warnings.append(.feature(index, line: line, n)) }
            if let path = folderPath {
                feature.properties[FeatureGroup.folderProperty] = .string(path)
                if knownGroups.insert(path).inserted { groups.append(FeatureGroup(id: .string(path), title: path)) }
            }
            return feature
        } catch {
            warnings.append(.feature(index, line: line, "<\(node.name)> \(error.reason); skipped"))
            return nil
        }
    }
}

/// Shared styles met so far: `#id` → simplestyle properties; StyleMaps resolve to their
/// `normal` pair (KML 2.2 §12.11), looked up lazily so their order in the file does not matter.
struct KMLStyleTable {
    private var styles: [String: JSONObject] = [:]
    private var maps: [String: String] = [:]

    mutating func register(_ node: XMLNode) {
        guard let id = node.attribute("id"), !id.isEmpty else { return }
        if node.name == "StyleMap" {
            for pair in node.all("Pair") where pair.value("key")?.trimmed == "normal" {
                if let url = pair.value("styleUrl") { maps["#" + id] = Self.normalize(url) }
                if let inline = pair.child("Style") { styles["#" + id] = KMLStyle.properties(of: inline) }
                break
            }
        } else {
            styles["#" + id] = KMLStyle.properties(of: node)
        }
    }

    func lookup(_ url: String) -> JSONObject? {
        if let s = styles[url] { return s }
        var seen = 0
        var key = url
        while let target = maps[key], seen < 8 {
            if let s = styles[target] { return s }
            key = target
            seen += 1
        }
        return nil
    }

    /// `styleUrl` values are `#id` (or `file.kml#id`); a bare `id` means `#id`.
    static func normalize(_ url: String) -> String {
        let u = url.trimmed
        return u.hasPrefix("#") ? u : "#" + u
    }
}

extension String {
    /// The string without leading and trailing whitespace.
    var trimmed: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
