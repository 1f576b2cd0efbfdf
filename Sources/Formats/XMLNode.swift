/// A small element tree for one KML/GPX element (a Placemark, a Style, a trkpt …).
///
/// Readers stream the document and build a tree only for the element they are converting,
/// so memory is bounded by the largest single element (`ReaderLimits.maxFeatureBytes`).
/// Lookups mirror the DOM calls togeojson makes (first descendant by local name), which
/// keeps our property conventions identical to the reference converter's.
///
/// The tree is stored flat, in document (pre)order, in one `XMLTree` array: a node is an
/// index, and its descendants are the entries up to its `end`. Building a Placemark is
/// then one array append per element instead of one object per element (whose reference
/// counting dominated KML conversion), and descendant lookups are a linear scan.
struct XMLNode: Sendable {
    let tree: XMLTree
    let index: Int

    private var entry: XMLTree.Entry { tree.entries[index] }
    var name: String { entry.name }
    /// Namespace prefix as written, "" when none.
    var prefix: String { entry.prefix }
    var attributes: [XMLAttribute] { entry.attributes }
    /// Direct character data (text and CDATA, concatenated).
    var text: String { entry.text }
    /// The first non-empty CDATA section among the direct character data, if any.
    var cdata: String? { entry.cdata }

    /// Direct children, in document order.
    var children: [XMLNode] {
        var out: [XMLNode] = []
        var j = index + 1
        let end = entry.end
        while j < end {
            out.append(XMLNode(tree: tree, index: j))
            j = tree.entries[j].end
        }
        return out
    }

    /// Reads the rest of the element whose start tag `scanner` just returned.
    static func read(_ scanner: XMLScanner, name: String, prefix: String = "", attributes: [XMLAttribute], selfClosing: Bool, maxBytes: Int) throws(FormatError) -> XMLNode {
        var entries = [XMLTree.Entry(name: name, prefix: prefix, attributes: attributes)]
        var stack = [0]
        let startLine = scanner.line
        let startOffset = scanner.offset
        if selfClosing { _ = try scanner.next() }  // the synthesized end event
        while !selfClosing, let top = stack.last {
            switch try scanner.next() {
            case let .start(n, pfx, attrs, _):
                stack.append(entries.count)
                entries.append(XMLTree.Entry(name: n, prefix: pfx, attributes: attrs))
            case .end:
                entries[top].end = entries.count
                stack.removeLast()
            case let .text(t, cdata):
                entries[top].text += t
                if cdata, entries[top].cdata == nil, !t.isEmpty { entries[top].cdata = t }
            case .endOfDocument:
                throw scanner.error("unexpected end of document inside <\(name)>")
            }
            if scanner.offset - startOffset > maxBytes {
                throw FormatError.limitExceeded(file: "", message: "line \(startLine): <\(name)> is larger than \(maxBytes) bytes (ReaderLimits.maxFeatureBytes)")
            }
        }
        entries[0].end = entries.count
        return XMLNode(tree: XMLTree(entries: entries), index: 0)
    }

    func attribute(_ name: String) -> String? {
        entry.attributes.first(where: { $0.name == name })?.value
    }

    /// The first direct child named `name`.
    func child(_ name: String) -> XMLNode? {
        let entries = tree.entries
        let length = name.utf8.count
        var j = index + 1
        let end = entries[index].end
        while j < end {
            if entries[j].nameLength == length, entries[j].name == name { return XMLNode(tree: tree, index: j) }
            j = entries[j].end
        }
        return nil
    }

    /// The first descendant named `name` in document order (DOM `getElementsByTagName(name)[0]`).
    func first(_ name: String) -> XMLNode? {
        let length = name.utf8.count
        // Converters ask for many names a Placemark does not have: answer those at once.
        if tree.lengths & (1 << UInt64(min(length, 63))) == 0 { return nil }
        let entries = tree.entries
        let end = entries[index].end
        var j = index + 1
        while j < end {
            if entries[j].nameLength == length, entries[j].name == name { return XMLNode(tree: tree, index: j) }
            j += 1
        }
        return nil
    }

    /// Every descendant named `name`, in document order.
    func all(_ name: String) -> [XMLNode] {
        var out: [XMLNode] = []
        let entries = tree.entries
        let length = name.utf8.count
        for j in (index + 1)..<entries[index].end where entries[j].nameLength == length && entries[j].name == name {
            out.append(XMLNode(tree: tree, index: j))
        }
        return out
    }

    /// All character data of this element and its descendants, each element's own text
    /// before its children's (the order the previous object tree produced).
    var textContent: String {
        let end = entry.end
        if end == index + 1 { return entry.text }
        var s = ""
        let entries = tree.entries
        for j in index..<end { s += entries[j].text }
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

/// The storage of an `XMLNode` tree: every element of one subtree in document order.
final class XMLTree: Sendable {
    struct Entry {
        var name: String
        /// `name.utf8.count`: lookups compare it first, since most names differ in length
        /// and a failed String comparison is comparatively slow.
        var nameLength: Int
        var prefix: String
        var attributes: [XMLAttribute]
        var text = ""
        var cdata: String?
        /// One past the index of the last descendant.
        var end = 0

        init(name: String, prefix: String, attributes: [XMLAttribute]) {
            self.name = name
            self.nameLength = name.utf8.count
            self.prefix = prefix
            self.attributes = attributes
        }
    }

    let entries: [Entry]
    /// Bit n is set when some element name is n bytes long (n ≥ 63 share bit 63).
    let lengths: UInt64

    init(entries: [Entry]) {
        self.entries = entries
        var lengths: UInt64 = 0
        for e in entries { lengths |= 1 << UInt64(min(e.nameLength, 63)) }
        self.lengths = lengths
    }
}
