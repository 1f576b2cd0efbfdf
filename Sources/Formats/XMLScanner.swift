import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// One step of an XML document, as `XMLScanner` pulls it.
enum XMLEvent {
    /// A start tag: local name, namespace prefix as written ("" when none), attributes, and
    /// whether it was `<x/>`. Prefixes are kept only for conventions that key on them (GPX
    /// extension properties); readers otherwise match local names, so `kml:`/`gx:` read alike.
    case start(name: String, prefix: String, attributes: [XMLAttribute], selfClosing: Bool)
    case end(name: String)
    /// Character data with entities decoded; `cdata` when it came from a CDATA section.
    case text(String, cdata: Bool)
    case endOfDocument
}

struct XMLAttribute: Equatable {
    /// Local name (prefix stripped).
    var name: String
    var value: String
    /// Namespace prefix as written ("xmlns" for `xmlns:x` declarations), "" when none.
    var prefix: String = ""
}

/// A small, strict, streaming XML 1.0 tokenizer working on bytes.
///
/// Safe by construction: it never resolves external entities and never expands DTD-declared
/// ones — a document whose DOCTYPE declares entities (XXE, "billion laughs") is refused at
/// once. Only the five predefined entities and character references are decoded (XML 1.0
/// §4.6, §4.1). It checks well-formedness where it matters for conversion (tags nest and
/// match, the document is not truncated, text is valid UTF-8) and reports line and column.
/// ISO-8859-1 / Windows-1252 documents (declared in the XML declaration) are transcoded.
final class XMLScanner {
    let window: ByteWindow
    let name: String
    let maxDepth: Int
    var pos = 0
    /// Line bookkeeping is lazy: newlines are counted up to `pos` only when a position is
    /// asked for (`line`, `column`, errors) or before the window discards bytes, so the
    /// scanning loops do not stop at every token to count them.
    private var lineCount = 1
    private var lineStart = 0
    private var counted = 0
    var depth = 0
    /// Open elements: qualified name as written, and local name (returned by `.end`).
    var stack: [(qname: String, local: String)] = []
    private(set) var latin1 = false
    private var sawRoot = false
    var pendingEnd: String?
    /// Absolute offset of the `<` of the last start tag.
    private(set) var tagStart = 0
    /// Buffers `readTree` reuses from one element to the next (freed in deinit).
    var treeScratch = TreeScratch()

    struct TreeScratch {
        var entries = PODBuffer<XMLTree.Entry>()
        var segments = PODBuffer<XMLTree.Segment>()
        /// Indices of the open elements.
        var open = PODBuffer<Int>()
    }

    init(input: ByteInput, name: String, limits: ReaderLimits) {
        self.window = ByteWindow(input: input, name: name, maxKeep: limits.maxFeatureBytes)
        self.name = name
        self.maxDepth = limits.maxNesting
    }

    deinit {
        treeScratch.entries.deallocate()
        treeScratch.segments.deallocate()
        treeScratch.open.deallocate()
    }

    var bytesRead: Int { window.input.consumed }

    /// Absolute offset of the next unread byte of the (decompressed) document.
    var offset: Int { pos }

    /// The 1-based column of the next unread byte.
    var column: Int {
        countLines()
        return pos - lineStart + 1
    }

    /// The 1-based line of the next unread byte.
    var line: Int {
        countLines()
        return lineCount
    }

    func error(_ message: String) -> FormatError {
        .malformed(file: name, line: line, column: column, message: message)
    }

    /// Pulls the next event.
    func next() throws(FormatError) -> XMLEvent {
        if let end = pendingEnd {
            pendingEnd = nil
            return .end(name: end)
        }
        while true {
            if pos == 0 { try skipBOM() }
            guard try ensure(1) else {
                if !stack.isEmpty { throw truncated(inside: stack.last!.qname) }
                if !sawRoot { throw error("no root element; the file is empty or not XML") }
                return .endOfDocument
            }
            if window[pos] != UInt8(ascii: "<") {
                let (range, eof) = try scanText()
                if eof, !stack.isEmpty { throw truncated(inside: stack.last!.qname) }
                let text = try decode(range, entities: true)
                advance(to: range.upperBound)
                if stack.isEmpty {
                    if !text.allSatisfy(\.isWhitespace) { throw error("text outside the root element") }
                    continue
                }
                return .text(text, cdata: false)
            }
            guard try ensure(2) else { throw error("unexpected end of file after '<'; the file is truncated") }
            switch window[pos + 1] {
            case UInt8(ascii: "/"): return try readEndTag()
            case UInt8(ascii: "?"), UInt8(ascii: "!"):
                if let cdata = try readDeclaration() {
                    let text = try decode(cdata, entities: false)
                    advance(to: cdata.upperBound + 3)
                    return .text(text, cdata: true)
                }
            default: return try readStartTag()
            }
        }
    }

    func truncated(inside qname: String) -> FormatError {
        error("unexpected end of file inside <\(qname)>; the file is truncated")
    }

    // MARK: Markup

    /// Reads the `<?…?>` or `<!…>` at `pos`: skips comments, processing instructions and a
    /// DOCTYPE (refusing entity declarations); for a CDATA section returns the absolute range
    /// of its content (in the window), and the caller moves `pos` past its `]]>` once it
    /// has checked the content (so errors point at the section).
    func readDeclaration() throws(FormatError) -> Range<Int>? {
        if window[pos + 1] == UInt8(ascii: "?") {
            try readProcessingInstruction()
        } else if try hasPrefix("<!--") {
            try skip(past: "-->", what: "comment")
        } else if try hasPrefix("<![CDATA[") {
            let start = pos + 9
            let end = try find("]]>", from: start, keep: pos, what: "CDATA section")
            return start..<end
        } else if try hasPrefix("<!DOCTYPE") {
            try readDoctype()
        } else {
            throw error("unknown markup declaration")
        }
        return nil
    }

    private func readStartTag() throws(FormatError) -> XMLEvent {
        if sawRoot && stack.isEmpty { throw error("more than one root element") }
        tagStart = pos
        let tag = try scanTag()
        let base = tagStart
        let p = window.bytes(base..<tag.close)
        let qname = XMLText.string(p, (tag.name.lowerBound - base)..<(tag.name.upperBound - base))
        let local = tag.colon < 0 ? qname : XMLText.string(p, (tag.colon + 1 - base)..<(tag.name.upperBound - base))
        let elementPrefix = tag.colon < 0 ? "" : XMLText.string(p, (tag.name.lowerBound - base)..<(tag.colon - base))
        var attributes: [XMLAttribute] = []
        if tag.name.upperBound < tag.contentEnd {
            let latin1 = self.latin1
            do throws(XMLText.Problem) {
                try XMLText.attributes(p, (tag.name.upperBound - base)..<(tag.contentEnd - base), tag: { qname }) { a throws(XMLText.Problem) in
                    let value = try XMLText.decode(UnsafeRawBufferPointer(rebasing: p[a.value]), entities: true, latin1: latin1)
                    if a.colon < 0 {
                        attributes.append(XMLAttribute(name: XMLText.string(p, a.name), value: value))
                    } else {
                        attributes.append(XMLAttribute(name: XMLText.string(p, (a.colon + 1)..<a.name.upperBound), value: value,
                                                       prefix: XMLText.string(p, a.name.lowerBound..<a.colon)))
                    }
                }
            } catch {
                throw self.error(error.message)
            }
        }
        advance(to: tag.close + 1)
        sawRoot = true
        if tag.selfClosing {
            pendingEnd = local
        } else {
            try push(qname, local)
        }
        return .start(name: local, prefix: elementPrefix, attributes: attributes, selfClosing: tag.selfClosing)
    }

    /// Opens an element on the event stack; enforces `maxNesting`.
    private func push(_ qname: String, _ local: String) throws(FormatError) {
        stack.append((qname, local))
        depth = stack.count
        try checkDepth(depth)
    }

    func checkDepth(_ depth: Int) throws(FormatError) {
        if depth > maxDepth {
            throw FormatError.limitExceeded(file: name, message: "line \(line): XML nested deeper than \(maxDepth) levels (ReaderLimits.maxNesting)")
        }
    }

    /// Where a start tag's parts are (absolute offsets), as `scanTag` found them.
    struct TagScan {
        /// Offset of the closing `>`.
        var close: Int
        var selfClosing: Bool
        /// The qualified name, and the offset of its `:` (-1 when it has no prefix).
        var name: Range<Int>
        var colon: Int
        /// End of the attribute part (before `/>` or `>`).
        var contentEnd: Int
    }

    /// Scans the start tag at `pos` (refilling as needed) into `TagScan` without building
    /// any string; attributes are checked by the caller (`XMLText.attributes`).
    func scanTag() throws(FormatError) -> TagScan {
        let tagStart = pos
        var i = tagStart + 1
        var quote: UInt8 = 0
        // Find the closing '>' outside quoted attribute values.
        while true {
            while i < window.end {
                let b = window[i]
                if quote != 0 {
                    if b == quote { quote = 0 }
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                    quote = b
                } else if b == UInt8(ascii: ">") {
                    break
                } else if b == UInt8(ascii: "<") {
                    throw error("'<' inside a tag; the tag is not closed")
                }
                i += 1
            }
            if i < window.end { break }
            guard try fill(keepingFrom: tagStart) else { throw error("unexpected end of file inside a tag; the file is truncated") }
        }
        let selfClosing = window[i - 1] == UInt8(ascii: "/")
        let contentEnd = selfClosing ? i - 1 : i
        var j = tagStart + 1
        var colon = -1
        while j < contentEnd {
            let b = window[j]
            if XMLText.isSpace(b) || b == UInt8(ascii: "=") || b == UInt8(ascii: ">") || b == UInt8(ascii: "/") { break }
            if b == UInt8(ascii: ":") { colon = j }
            j += 1
        }
        guard j > tagStart + 1 else { throw error("missing element name after '<'") }
        return TagScan(close: i, selfClosing: selfClosing, name: (tagStart + 1)..<j, colon: colon, contentEnd: contentEnd)
    }

    private func readEndTag() throws(FormatError) -> XMLEvent {
        let (close, nameEnd) = try scanEndTag()
        // Compare the bytes with the open element's name; Strings only for error messages.
        guard let open = stack.last, Self.equal(window.bytes((pos + 2)..<nameEnd), open.qname) else {
            throw endTagMismatch(nameEnd, open: stack.last?.qname)
        }
        stack.removeLast()
        depth = stack.count
        advance(to: close + 1)
        return .end(name: open.local)
    }

    /// Finds the end of the end tag at `pos`: the offsets of its `>` and of the end of its name.
    func scanEndTag() throws(FormatError) -> (close: Int, nameEnd: Int) {
        let close = try find(">", from: pos + 2, keep: pos, what: "end tag")
        var j = pos + 2
        while j < close, !isSpace(window[j]), window[j] != UInt8(ascii: "="), window[j] != UInt8(ascii: "/") { j += 1 }
        return (close, j)
    }

    /// The error for the end tag at `pos` (name ending at `nameEnd`) that does not close `open`.
    func endTagMismatch(_ nameEnd: Int, open: String?) -> FormatError {
        let qname = XMLText.string(window.bytes((pos + 2)..<nameEnd), 0..<(nameEnd - pos - 2))
        guard let open else { return error("end tag </\(qname)> without a start tag") }
        return error("end tag </\(qname)> does not match <\(open)>")
    }

    func readProcessingInstruction() throws(FormatError) {
        let start = pos
        let end = try find("?>", from: pos + 2, keep: start, what: "processing instruction")
        let body = String(decoding: window.bytes((start + 2)..<end), as: UTF8.self)
        if body.hasPrefix("xml ") || body.hasPrefix("xml\t") || body.hasPrefix("xml\n") {
            let lower = body.lowercased()
            if let r = Self.after("encoding", in: lower) {
                let rest = lower[r...].drop(while: { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" })
                let encoding = rest.prefix(while: { $0 != "\"" && $0 != "'" && $0 != " " })
                switch encoding {
                case "utf-8", "utf8", "us-ascii", "ascii": break
                case "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "iso-8859-15": latin1 = true
                default: throw FormatError.unsupported(file: name, message: "XML encoding \"\(encoding)\" is not supported; re-save the file as UTF-8")
                }
            }
        }
        advance(to: end + 2)
    }

    /// A DOCTYPE is skipped unless it declares entities: those are refused outright.
    func readDoctype() throws(FormatError) {
        let start = pos
        var i = pos + 9
        var bracket = 0
        var quote: UInt8 = 0
        while true {
            while i < window.end {
                let b = window[i]
                if quote != 0 {
                    if b == quote { quote = 0 }
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                    quote = b
                } else if b == UInt8(ascii: "[") {
                    bracket += 1
                } else if b == UInt8(ascii: "]") {
                    bracket -= 1
                } else if b == UInt8(ascii: ">"), bracket <= 0 {
                    break
                }
                i += 1
            }
            if i < window.end { break }
            guard try fill(keepingFrom: start) else { throw error("unexpected end of file inside <!DOCTYPE>; the file is truncated") }
        }
        let body = String(decoding: window.bytes(start..<i), as: UTF8.self)
        if body.contains("<!ENTITY") {
            throw FormatError.unsupported(file: name, message: "line \(line): the DOCTYPE declares XML entities; tiledrop never expands or fetches entities (XXE / billion-laughs protection). Remove the DOCTYPE and re-export the file")
        }
        if body.contains("SYSTEM") || body.contains("PUBLIC"), body.contains("[") {
            throw FormatError.unsupported(file: name, message: "line \(line): the DOCTYPE has an internal subset; DTDs are not processed. Remove the DOCTYPE")
        }
        advance(to: i + 1)
    }

    // MARK: Text

    /// Finds the end of the character data at `pos` (the next `<`, refilling as needed)
    /// without consuming it; `eof` when the input ended first.
    func scanText() throws(FormatError) -> (range: Range<Int>, eof: Bool) {
        let start = pos
        var i = pos
        while true {
            let n = window.end - i
            if n > 0, let hit = memchr(window.storage + (i - window.base), Int32(UInt8(ascii: "<")), n) {
                return (start..<(window.base + (UnsafeMutableRawPointer(hit) - window.storage)), false)
            }
            i = window.end
            guard try fill(keepingFrom: start) else { return (start..<i, true) }
        }
    }

    /// Decodes bytes as UTF-8 (or Latin-1) text, resolving predefined entities and character references.
    private func decode(_ range: Range<Int>, entities: Bool) throws(FormatError) -> String {
        do throws(XMLText.Problem) {
            return try XMLText.decode(window.bytes(range), entities: entities, latin1: latin1)
        } catch {
            throw self.error(error.message)
        }
    }

    // MARK: Byte helpers

    private func skipBOM() throws(FormatError) {
        _ = try ensure(3)
        if window.end - pos >= 3, window[pos] == 0xEF, window[pos + 1] == 0xBB, window[pos + 2] == 0xBF {
            pos = 3
            lineStart = 3
            counted = 3
        }
    }

    /// Makes sure `n` bytes from `pos` are in the window; false at end of input.
    func ensure(_ n: Int) throws(FormatError) -> Bool {
        while window.end - pos < n {
            guard try fill(keepingFrom: pos) else { return false }
        }
        return true
    }
    func hasPrefix(_ s: StaticString) throws(FormatError) -> Bool {
        let n = s.utf8CodeUnitCount
        guard try ensure(n) else { return false }
        for k in 0..<n where window[pos + k] != s.utf8Start[k] { return false }
        return true
    }

    /// Absolute offset of `terminator` at or after `from`, refilling and keeping from `keep`.
    func find(_ terminator: StaticString, from: Int, keep: Int, what: String) throws(FormatError) -> Int {
        let t = terminator.utf8Start
        let n = terminator.utf8CodeUnitCount
        var i = from
        while true {
            while i + n <= window.end {
                if window[i] == t[0] {
                    var k = 1
                    while k < n, window[i + k] == t[k] { k += 1 }
                    if k == n { return i }
                }
                i += 1
            }
            guard try fill(keepingFrom: keep) else { throw error("unexpected end of file inside a \(what); the file is truncated") }
        }
    }

    func skip(past terminator: StaticString, what: String) throws(FormatError) {
        let end = try find(terminator, from: pos, keep: pos, what: what)
        advance(to: end + terminator.utf8CodeUnitCount)
    }

    /// Moves `pos` to `to` (lines are counted later, see `lineCount`).
    @inline(__always) func advance(to: Int) {
        pos = to
    }

    /// Counts the newlines between `counted` and `pos`.
    func countLines() {
        guard counted < pos else { return }
        let p = UnsafeRawPointer(window.storage - window.base)
        var i = counted
        while i < pos, let hit = memchr(p + i, 0x0A, pos - i) {
            i = UnsafeRawPointer(hit) - p + 1
            lineCount += 1
            lineStart = i
        }
        counted = pos
    }

    /// Reads more input keeping bytes from `mark` on, after counting the lines it may discard.
    private func fill(keepingFrom mark: Int) throws(FormatError) -> Bool {
        countLines()
        return try window.fill(keepingFrom: mark)
    }

    private static func equal(_ bytes: UnsafeRawBufferPointer, _ name: String) -> Bool {
        var name = name
        return name.withUTF8 { u in u.count == bytes.count && (u.count == 0 || memcmp(u.baseAddress!, bytes.baseAddress!, u.count) == 0) }
    }

    /// The index just after the first occurrence of `word` in `text`.
    static func after(_ word: String, in text: String) -> String.Index? {
        var i = text.startIndex
        while i < text.endIndex {
            if text[i...].hasPrefix(word) { return text.index(i, offsetBy: word.count) }
            i = text.index(after: i)
        }
        return nil
    }

    @inline(__always) private func isSpace(_ b: UInt8) -> Bool { XMLText.isSpace(b) }
}
