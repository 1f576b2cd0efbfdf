#if canImport(Glibc)
import Glibc
#endif

/// A small element tree for one KML/GPX element (a Placemark, a Style, a trkpt …).
///
/// Readers stream the document and build a tree only for the element they are converting,
/// so memory is bounded by the largest single element (`ReaderLimits.maxFeatureBytes`).
/// Lookups mirror the DOM calls togeojson makes (first descendant by local name), which
/// keeps our property conventions identical to the reference converter's.
///
/// A node is an index into an `XMLTree` (the element's source bytes plus a flat, preorder
/// index of its descendants: a node's descendants are the entries up to its `end`). Names
/// are compared as bytes against `XMLName` literals and values become `String`s only when
/// asked for, so a Placemark costs a few plain appends to build instead of a `String` per
/// tag and text (whose allocation and reference counting dominated KML conversion).
struct XMLNode: Sendable {
    let tree: XMLTree
    let index: Int

    private var entry: XMLTree.Entry { tree.entries[index] }
    /// Local name (prefix stripped).
    var name: String { XMLText.string(tree.bytes, entry.localStart..<entry.nameEnd) }
    /// Namespace prefix as written, "" when none.
    var prefix: String {
        let e = entry
        return e.localStart == e.nameStart ? "" : XMLText.string(tree.bytes, e.nameStart..<(e.localStart - 1))
    }
    /// Direct character data (text and CDATA, concatenated).
    var text: String { concatenated(index..<(index + 1)) }
    /// The first non-empty CDATA section among the direct character data, if any.
    var cdata: String? {
        var s = entry.firstSegment
        while s >= 0 {
            let segment = tree.segments[s]
            if segment.cdata, segment.end > segment.start { return tree.decode(segment) }
            s = segment.next
        }
        return nil
    }

    /// Whether the local name is `name`, without building a string.
    func isNamed(_ name: XMLName) -> Bool {
        tree.hasName(index, name.bytes)
    }

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

    /// The first child element, if any.
    var firstChild: XMLNode? {
        index + 1 < entry.end ? XMLNode(tree: tree, index: index + 1) : nil
    }

    /// The next element after this one (and its descendants) inside `parent`, if any.
    func nextSibling(in parent: XMLNode) -> XMLNode? {
        let next = entry.end
        return next < parent.entry.end ? XMLNode(tree: tree, index: next) : nil
    }

    /// Calls `body` with every descendant named `name`, in document order.
    func forEach(_ name: XMLName, _ body: (XMLNode) -> Void) {
        var j = index
        while let found = nextIndex(name, after: j) {
            body(XMLNode(tree: tree, index: found))
            j = found
        }
    }

    /// The index of the first descendant named `name` after entry `after` (in document
    /// order), or nil. The scan reads the tree's entries and bytes directly.
    @inline(__always) private func nextIndex(_ name: XMLName, after: Int) -> Int? {
        let n = name.bytes
        // Converters ask for many names an element does not have: answer those at once.
        guard n.count > 0, tree.names & XMLTree.nameBit(n[0], n[n.count - 1], n.count) != 0 else { return nil }
        let entries = tree.entries
        let base = tree.bytes.baseAddress!
        let end = entries[index].end
        var j = after + 1
        while j < end {
            let e = entries[j]
            if e.nameEnd - e.localStart == n.count, memcmp(base + e.localStart, n.baseAddress!, n.count) == 0 { return j }
            j += 1
        }
        return nil
    }

    /// Reads the rest of the element whose start tag `scanner` just returned.
    static func read(_ scanner: XMLScanner, maxBytes: Int) throws(FormatError) -> XMLNode {
        XMLNode(tree: try scanner.readTree(maxBytes: maxBytes), index: 0)
    }

    /// The value of the attribute with local name `name` (entities decoded).
    func attribute(_ name: XMLName) -> String? {
        let e = entry
        guard e.nameEnd < e.attributesEnd else { return nil }
        let p = tree.bytes
        let n = name.bytes
        var found: Range<Int>?
        try? XMLText.attributes(p, e.nameEnd..<e.attributesEnd, tag: { "" }) { a throws(XMLText.Problem) in
            if found == nil, XMLText.equal(p, (a.colon < 0 ? a.name.lowerBound : a.colon + 1)..<a.name.upperBound, n) {
                found = a.value
            }
        }
        guard let found else { return nil }
        let raw = UnsafeRawBufferPointer(rebasing: p[found])
        return (try? XMLText.decode(raw, entities: true, latin1: tree.latin1)) ?? String(decoding: raw, as: UTF8.self)
    }

    /// The first direct child named `name`.
    func child(_ name: XMLName) -> XMLNode? {
        let n = name.bytes
        var j = index + 1
        let end = entry.end
        while j < end {
            if tree.hasName(j, n) { return XMLNode(tree: tree, index: j) }
            j = tree.entries[j].end
        }
        return nil
    }

    /// The first descendant named `name` in document order (DOM `getElementsByTagName(name)[0]`).
    func first(_ name: XMLName) -> XMLNode? {
        nextIndex(name, after: index).map { XMLNode(tree: tree, index: $0) }
    }

    /// Every descendant named `name`, in document order.
    func all(_ name: XMLName) -> [XMLNode] {
        var out: [XMLNode] = []
        forEach(name) { out.append($0) }
        return out
    }

    /// All character data of this element and its descendants, each element's own text
    /// before its children's (the order the previous object tree produced).
    var textContent: String { concatenated(index..<entry.end) }

    /// The character data of `textContent` as source bytes, when they need no decoding (one
    /// reference-free UTF-8 segment, or none); nil otherwise. Valid while `tree` lives.
    var rawTextContent: UnsafeRawBufferPointer? {
        guard !tree.latin1 else { return nil }
        var only: XMLTree.Segment?
        for j in index..<entry.end {
            var s = tree.entries[j].firstSegment
            while s >= 0 {
                if only != nil { return nil }
                only = tree.segments[s]
                s = only!.next
            }
        }
        guard let only else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return only.references ? nil : UnsafeRawBufferPointer(rebasing: tree.bytes[only.start..<only.end])
    }

    /// The decoded segments of entries `range`, each entry's in order.
    private func concatenated(_ range: Range<Int>) -> String {
        var out: String?
        for j in range {
            var s = tree.entries[j].firstSegment
            while s >= 0 {
                let segment = tree.segments[s]
                if out == nil { out = tree.decode(segment) } else { out! += tree.decode(segment) }
                s = segment.next
            }
        }
        return out ?? ""
    }

    /// `textContent` of the first descendant named `name`, or nil when there is none.
    func value(_ name: XMLName) -> String? {
        guard let j = nextIndex(name, after: index) else { return nil }
        return concatenated(j..<tree.entries[j].end)
    }

    /// The first descendant's text parsed as a number the way JavaScript's `parseFloat` does.
    func number(_ name: XMLName) -> Double? {
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

/// An element or attribute name to look up: a string literal's UTF-8 bytes, compared with
/// the source bytes directly (no `String`, no reference counting).
struct XMLName: ExpressibleByStringLiteral, Sendable {
    let literal: StaticString

    init(stringLiteral value: StaticString) { literal = value }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) }
    var string: String { literal.description }
}
