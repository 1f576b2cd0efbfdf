/// A small element tree for one KML/GPX element (a Placemark, a Style, a trkpt …).
///
/// Readers stream the document and build a tree only for the element they are converting,
/// so memory is bounded by the largest single element (`ReaderLimits.maxFeatureBytes`).
/// Lookups mirror the DOM calls togeojson makes (first descendant by local name), which
/// keeps our property conventions identical to the reference converter's.
final class XMLNode {
    let name: String
    /// Namespace prefix as written, "" when none.
    let prefix: String
    let attributes: [XMLAttribute]
    private(set) var children: [XMLNode] = []
    /// Direct character data (text and CDATA, concatenated).
    private(set) var text = ""
    /// The first non-empty CDATA section among the direct character data, if any.
    private(set) var cdata: String?

    init(name: String, prefix: String = "", attributes: [XMLAttribute]) {
        self.name = name
        self.prefix = prefix
        self.attributes = attributes
    }

    /// Reads the rest of the element whose start tag `scanner` just returned.
    static func read(_ scanner: XMLScanner, name: String, prefix: String = "", attributes: [XMLAttribute], selfClosing: Bool, maxBytes: Int) throws(FormatError) -> XMLNode {
        let root = XMLNode(name: name, prefix: prefix, attributes: attributes)
        var stack = [root]
        let startLine = scanner.line
        let startBytes = scanner.bytesRead
        if selfClosing { _ = try scanner.next() }  // the synthesized end event
        while !selfClosing, let top = stack.last {
            switch try scanner.next() {
            case let .start(n, pfx, attrs, _):
                let child = XMLNode(name: n, prefix: pfx, attributes: attrs)
                top.children.append(child)
                stack.append(child)
            case .end:
                stack.removeLast()
            case let .text(t, cdata):
                top.text += t
                if cdata, top.cdata == nil, !t.isEmpty { top.cdata = t }
            case .endOfDocument:
                throw scanner.error("unexpected end of document inside <\(name)>")
            }
            if scanner.bytesRead - startBytes > maxBytes + (1 << 20) {
                throw FormatError.limitExceeded(file: "", message: "line \(startLine): <\(name)> is larger than \(maxBytes) bytes (ReaderLimits.maxFeatureBytes)")
            }
        }
        return root
    }

    func attribute(_ name: String) -> String? {
        attributes.first(where: { $0.name == name })?.value
    }

    /// The first direct child named `name`.
    func child(_ name: String) -> XMLNode? {
        children.first(where: { $0.name == name })
    }

    /// The first descendant named `name` in document order (DOM `getElementsByTagName(name)[0]`).
    ///
    /// Converters ask a Placemark for a dozen names; one preorder walk builds an index of
    /// first occurrences so each lookup is a hash probe instead of a tree walk.
    func first(_ name: String) -> XMLNode? {
        if children.isEmpty { return nil }
        if firstIndex == nil {
            var index: [String: XMLNode] = [:]
            indexDescendants(into: &index)
            firstIndex = index
        }
        return firstIndex![name]
    }

    private var firstIndex: [String: XMLNode]?

    private func indexDescendants(into index: inout [String: XMLNode]) {
        for c in children {
            if index[c.name] == nil { index[c.name] = c }
            c.indexDescendants(into: &index)
        }
    }

    /// Every descendant named `name`, in document order.
    func all(_ name: String) -> [XMLNode] {
        var out: [XMLNode] = []
        collect(name, into: &out)
        return out
    }

    private func collect(_ name: String, into out: inout [XMLNode]) {
        for c in children {
            if c.name == name { out.append(c) }
            c.collect(name, into: &out)
        }
    }

    /// All character data of this element and its descendants (DOM `textContent`).
    var textContent: String {
        if children.isEmpty { return text }
        var s = text
        for c in children { s += c.textContent }
        return s
    }

    /// `textContent` of the first descendant named `name`, or nil when there is none.
    func value(_ name: String) -> String? {
        first(name)?.textContent
    }

    /// The first descendant's text parsed as a number the way JavaScript's `parseFloat` does.
    func number(_ name: String) -> Double? {
        value(name).flatMap(XMLNode.parseFloat)
    }

    /// JavaScript `parseFloat`: skips leading whitespace and reads the longest numeric prefix.
    static func parseFloat(_ s: String) -> Double? {
        let u = Array(s.utf8)
        var i = 0
        while i < u.count, u[i] == 0x20 || u[i] == 0x0A || u[i] == 0x0D || u[i] == 0x09 { i += 1 }
        let start = i
        if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
        var digits = 0
        while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1; digits += 1 }
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1; digits += 1 }
        }
        guard digits > 0 else { return nil }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            var j = i + 1
            if j < u.count, u[j] == UInt8(ascii: "-") || u[j] == UInt8(ascii: "+") { j += 1 }
            if j < u.count, u[j] >= 48, u[j] <= 57 {
                while j < u.count, u[j] >= 48, u[j] <= 57 { j += 1 }
                i = j
            }
        }
        return Double(String(decoding: u[start..<i], as: UTF8.self))
    }
}
