import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// The storage of an `XMLNode` tree: one element's bytes and an index of its descendants.
///
/// A converter reads a handful of values out of each Placemark, so the tree keeps the
/// element's source bytes (one copy) and describes every descendant by offsets into them:
/// name, attribute span and a chain of character-data segments. Entries and segments are
/// plain values, so building a tree is a few appends with no reference counting, and a
/// `String` is made only when a converter asks for a value (`XMLNode`). The scanner has
/// already checked everything well-formedness needs (tags, attributes, entities, UTF-8)
/// while it built the tree, so errors still carry line and column.
final class XMLTree: @unchecked Sendable {
    // @unchecked: immutable after init; `bytes` is owned and freed in deinit.

    struct Entry {
        /// Offsets of the qualified name, of its local part, and of its end.
        var nameStart: Int
        var localStart: Int
        var nameEnd: Int
        /// End of the attribute part of the start tag (attributes are in `nameEnd..<attributesEnd`).
        var attributesEnd: Int
        /// First and last of this element's own character-data segments, -1 when none.
        var firstSegment = -1
        var lastSegment = -1
        /// One past the index of the last descendant.
        var end = 0

        var localLength: Int { nameEnd - localStart }
    }

    /// A run of character data: text (entities still encoded) or a CDATA section's content.
    struct Segment {
        var start: Int
        var end: Int
        var cdata: Bool
        /// The text contains entity or character references (decoding cannot just copy).
        var references: Bool
        /// The next segment of the same element, -1 at the last.
        var next = -1
    }

    /// The element's source bytes, its entries (document order) and text segments: views
    /// into one allocation owned by the tree.
    let bytes: UnsafeRawBufferPointer
    let entries: UnsafeBufferPointer<Entry>
    let segments: UnsafeBufferPointer<Segment>
    private let storage: UnsafeMutableRawPointer
    /// The document is ISO-8859-1 / Windows-1252 (values are transcoded when decoded).
    let latin1: Bool
    /// A 64-bit Bloom filter of the local names (`nameBit`): lookups of names the element
    /// does not contain, most of what converters ask, end without a scan.
    let names: UInt64

    /// Copies `source`, `entries` and `segments` into one allocation (the builder reuses
    /// its buffers, so a tree costs two allocations whatever its size).
    init(copying source: UnsafeRawBufferPointer, entries: UnsafeBufferPointer<Entry>, segments: UnsafeBufferPointer<Segment>, latin1: Bool) {
        let entryBytes = entries.count * MemoryLayout<Entry>.stride
        let segmentBytes = segments.count * MemoryLayout<Segment>.stride
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, entryBytes + segmentBytes + source.count), alignment: 16)
        if entryBytes > 0 { storage.copyMemory(from: entries.baseAddress!, byteCount: entryBytes) }
        if segmentBytes > 0 { (storage + entryBytes).copyMemory(from: segments.baseAddress!, byteCount: segmentBytes) }
        let e = storage.bindMemory(to: Entry.self, capacity: entries.count)
        let s = (storage + entryBytes).bindMemory(to: Segment.self, capacity: segments.count)
        let b = storage + entryBytes + segmentBytes
        if source.count > 0 { b.copyMemory(from: source.baseAddress!, byteCount: source.count) }
        self.entries = UnsafeBufferPointer(start: e, count: entries.count)
        self.segments = UnsafeBufferPointer(start: s, count: segments.count)
        self.bytes = UnsafeRawBufferPointer(start: b, count: source.count)
        self.latin1 = latin1
        var names: UInt64 = 0
        for entry in entries where entry.localLength > 0 {
            names |= Self.nameBit(source[entry.localStart], source[entry.nameEnd - 1], entry.localLength)
        }
        self.names = names
    }

    deinit { storage.deallocate() }

    /// The bytes of `segment` as character data, decoded.
    func decode(_ segment: Segment) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[segment.start..<segment.end])
        if !segment.references, !latin1 { return JSONParser.string(raw) }
        // Checked when the tree was built, so decoding cannot fail; repair just in case.
        return (try? XMLText.decode(raw, entities: !segment.cdata, latin1: latin1)) ?? String(decoding: raw, as: UTF8.self)
    }

    /// The filter bit of a name with these first and last bytes and length.
    @inline(__always) static func nameBit(_ first: UInt8, _ last: UInt8, _ count: Int) -> UInt64 {
        1 << UInt64((Int(first) &* 7 &+ Int(last) &* 13 &+ count) & 63)
    }

    /// Whether `name` (UTF-8) is the local name of entry `j`.
    @inline(__always) func hasName(_ j: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        let e = entries[j]
        return XMLText.equal(bytes, e.localStart..<e.nameEnd, name)
    }
}

extension XMLScanner {
    /// Reads the element whose start tag `next()` just returned, up to and including its end
    /// tag, as one `XMLTree` (the event stream then continues after it).
    ///
    /// The window keeps every byte of the element (`ByteWindow.floor`) so the tree can copy
    /// them in one piece; `maxBytes` (`ReaderLimits.maxFeatureBytes`) bounds that copy.
    func readTree(maxBytes: Int) throws(FormatError) -> XMLTree {
        let start = tagStart
        let startLine = line
        window.floor = start
        defer { window.floor = Int.max }
        // Buffers kept by the scanner (no allocation per tree once they have grown); the
        // grown buffers must go back to it whatever happens.
        var scratch = treeScratch
        scratch.entries.removeAll()
        scratch.segments.removeAll()
        scratch.open.removeAll()
        defer { treeScratch = scratch }
        // The root's start tag is still in the window: index it again.
        let resume = pos
        pos = start
        let root = try scanTag()
        pos = resume
        scratch.entries.append(entry(root, base: start))
        if pendingEnd != nil {
            pendingEnd = nil  // self-closing root: the tree is complete
            scratch.entries[0].end = 1
        } else {
            scratch.open.append(0)
        }
        while let top = scratch.open.last {
            guard try ensure(1) else { throw truncated(inside: qname(scratch.entries[top], base: start)) }
            if window[pos] != UInt8(ascii: "<") {
                let (range, eof) = try scanText()
                if eof { throw truncated(inside: qname(scratch.entries[top], base: start)) }
                let references = try check(range, entities: true)
                append(XMLTree.Segment(start: range.lowerBound - start, end: range.upperBound - start, cdata: false, references: references),
                       to: top, &scratch)
                advance(to: range.upperBound)
                continue
            }
            guard try ensure(2) else { throw error("unexpected end of file after '<'; the file is truncated") }
            switch window[pos + 1] {
            case UInt8(ascii: "/"):
                let (close, nameEnd) = try scanEndTag()
                let e = scratch.entries[top]
                guard XMLText.equal(window.bytes((pos + 2)..<nameEnd), 0..<(nameEnd - pos - 2), window.bytes((start + e.nameStart)..<(start + e.nameEnd))) else {
                    throw endTagMismatch(nameEnd, open: qname(e, base: start))
                }
                scratch.entries[top].end = scratch.entries.count
                scratch.open.removeLast()
                advance(to: close + 1)
            case UInt8(ascii: "?"), UInt8(ascii: "!"):
                if let cdata = try readDeclaration() {
                    _ = try check(cdata, entities: false)
                    advance(to: cdata.upperBound + 3)
                    append(XMLTree.Segment(start: cdata.lowerBound - start, end: cdata.upperBound - start, cdata: true, references: false),
                           to: top, &scratch)
                }
            default:
                let tag = try scanTag()
                try checkAttributes(tag)
                let index = scratch.entries.count
                scratch.entries.append(entry(tag, base: start))
                advance(to: tag.close + 1)
                if tag.selfClosing {
                    scratch.entries[index].end = index + 1
                } else {
                    scratch.open.append(index)
                    try checkDepth(stack.count + scratch.open.count - 1)
                }
            }
            if pos - start > maxBytes {
                throw FormatError.limitExceeded(file: name, message: "line \(startLine): <\(qname(scratch.entries[0], base: start))> is larger than \(maxBytes) bytes (ReaderLimits.maxFeatureBytes)")
            }
        }
        if !root.selfClosing {
            stack.removeLast()
            depth = stack.count
        }
        let tree = XMLTree(copying: window.bytes(start..<pos), entries: scratch.entries.buffer, segments: scratch.segments.buffer, latin1: latin1)
        // One huge element must not pin a huge window for the rest of the document.
        countLines()
        window.shrinkIfLarge(keepingFrom: pos)
        return tree
    }

    private func entry(_ tag: TagScan, base: Int) -> XMLTree.Entry {
        XMLTree.Entry(nameStart: tag.name.lowerBound - base, localStart: (tag.colon < 0 ? tag.name.lowerBound : tag.colon + 1) - base,
                      nameEnd: tag.name.upperBound - base, attributesEnd: tag.contentEnd - base)
    }

    private func qname(_ e: XMLTree.Entry, base: Int) -> String {
        String(decoding: window.bytes((base + e.nameStart)..<(base + e.nameEnd)), as: UTF8.self)
    }

    private func append(_ segment: XMLTree.Segment, to element: Int, _ scratch: inout TreeScratch) {
        let index = scratch.segments.count
        scratch.segments.append(segment)
        if scratch.entries[element].lastSegment >= 0 {
            scratch.segments[scratch.entries[element].lastSegment].next = index
        } else {
            scratch.entries[element].firstSegment = index
        }
        scratch.entries[element].lastSegment = index
    }

    /// Checks character data at `range` (UTF-8, references); true when it has references.
    private func check(_ range: Range<Int>, entities: Bool) throws(FormatError) -> Bool {
        do throws(XMLText.Problem) {
            return try XMLText.validate(window.bytes(range), entities: entities, latin1: latin1)
        } catch {
            throw self.error(error.message)
        }
    }

    /// Checks the attribute syntax and values of the start tag at `pos`.
    private func checkAttributes(_ tag: TagScan) throws(FormatError) {
        guard tag.name.upperBound < tag.contentEnd else { return }
        let base = pos
        let p = window.bytes(base..<tag.close)
        let latin1 = self.latin1
        do throws(XMLText.Problem) {
            try XMLText.attributes(p, (tag.name.upperBound - base)..<(tag.contentEnd - base),
                                   tag: { XMLText.string(p, (tag.name.lowerBound - base)..<(tag.name.upperBound - base)) }) { a throws(XMLText.Problem) in
                _ = try XMLText.validate(UnsafeRawBufferPointer(rebasing: p[a.value]), entities: true, latin1: latin1)
            }
        } catch {
            throw self.error(error.message)
        }
    }
}

/// A growable buffer of plain values (no references inside) that `readTree` reuses from
/// one element to the next: unlike an Array it has no reference counting or uniqueness
/// checks. Its owner calls `deallocate()` once.
struct PODBuffer<T> {
    private(set) var base: UnsafeMutablePointer<T>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 64) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    func deallocate() { base.deallocate() }

    var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }
    var last: T? { count > 0 ? base[count - 1] : nil }

    subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    mutating func append(_ value: T) {
        if count == capacity {
            let bigger = UnsafeMutablePointer<T>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: base, count: count)
            base.deallocate()
            base = bigger
            capacity *= 2
        }
        (base + count).initialize(to: value)
        count += 1
    }

    mutating func removeLast() { count -= 1 }
    mutating func removeAll() { count = 0 }
}
