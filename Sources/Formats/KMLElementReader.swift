import GeoModel

/// The structural pass over a KML document: finds the elements `KMLReader` converts.
///
/// It pulls `XMLScanner` events, tracks `<Folder>`/`<Document>` nesting and folder names,
/// and builds an `XMLNode` tree for each Placemark, GroundOverlay, NetworkLink, shared
/// Style/StyleMap and Schema, in document order. It keeps no state the conversion needs,
/// so `KMLReader` can run it on a second thread (tokenizing and tree building are about
/// half of the work) while it converts the previous elements.
final class KMLElementReader: @unchecked Sendable {
    // @unchecked: used by one thread at a time (the prefetch thread once it is started).

    /// One element for the converter, in document order.
    enum Element: Sendable {
        /// A Placemark, GroundOverlay or NetworkLink; `folder` is its `@folder` path.
        case feature(XMLNode, line: Int, folder: String?)
        /// A Style, StyleMap or CascadingStyle to remember for later `styleUrl`s.
        case style(XMLNode)
        case schema(XMLNode)
        case end
    }

    private struct Container {
        var isFolder: Bool
        var depth: Int
        var name: String?
    }

    private let scanner: XMLScanner
    private let name: String
    private let limits: ReaderLimits
    private var containers: [Container] = [] {
        didSet { folderPathCache = nil }
    }
    private var folderPathCache: (path: String?, Void)?
    private var sawRoot = false

    init(input: ByteInput, name: String, limits: ReaderLimits) {
        self.scanner = XMLScanner(input: input, name: name, limits: limits)
        self.name = name
        self.limits = limits
    }

    var bytesRead: Int { scanner.bytesRead }

    /// The next element; `.end` at the end of the document. Throws for malformed XML.
    func next() throws(FormatError) -> Element {
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
                if let e = try start(element, attributes, selfClosing) { return e }
            case let .end(element):
                if element == "Folder" || element == "Document", let last = containers.last, last.depth == scanner.depth + 1 {
                    containers.removeLast()
                }
            case .text:
                continue
            case .endOfDocument:
                return .end
            }
        }
    }

    private func start(_ element: String, _ attributes: [XMLAttribute], _ selfClosing: Bool) throws(FormatError) -> Element? {
        switch element {
        case "Placemark", "GroundOverlay", "NetworkLink":
            let line = scanner.line
            return .feature(try build(element, attributes, selfClosing), line: line, folder: folderPath)
        case "Style", "StyleMap", "CascadingStyle":
            return .style(try build(element, attributes, selfClosing))
        case "Schema":
            return .schema(try build(element, attributes, selfClosing))
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
            return try XMLNode.read(scanner, maxBytes: limits.maxFeatureBytes)
        } catch {
            if case let .limitExceeded(_, message) = error { throw FormatError.limitExceeded(file: name, message: message) }
            throw error
        }
    }

    /// The folder path of the current position ("Outer / Inner"), nil outside any Folder.
    /// Cached until the container stack changes: thousands of Placemarks share one folder.
    private var folderPath: String? {
        if let cached = folderPathCache { return cached.path }
        let names = containers.filter(\.isFolder).map { $0.name ?? "Untitled folder" }
        let path = names.isEmpty ? nil : names.joined(separator: " / ")
        folderPathCache = (path: path, ())
        return path
    }
}
