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
    private let window: ByteWindow
    private let name: String
    private let maxDepth: Int
    private var pos = 0
    private(set) var line = 1
    private var lineStart = 0
    private(set) var depth = 0
    private var stack: [String] = []
    private var latin1 = false
    private var sawRoot = false
    private var pendingEnd: String?

    init(input: ByteInput, name: String, limits: ReaderLimits) {
        self.window = ByteWindow(input: input, name: name, maxKeep: limits.maxFeatureBytes)
        self.name = name
        self.maxDepth = limits.maxNesting
    }

    var bytesRead: Int { window.input.consumed }

    /// The 1-based column of the next unread byte.
    var column: Int { pos - lineStart + 1 }

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
                if !stack.isEmpty { throw error("unexpected end of file inside <\(stack.last!)>; the file is truncated") }
                if !sawRoot { throw error("no root element; the file is empty or not XML") }
                return .endOfDocument
            }
            if window[pos] != UInt8(ascii: "<") {
                let text = try readText()
                if stack.isEmpty {
                    if !text.allSatisfy(\.isWhitespace) { throw error("text outside the root element") }
                    continue
                }
                return .text(text, cdata: false)
            }
            guard try ensure(2) else { throw error("unexpected end of file after '<'; the file is truncated") }
            switch window[pos + 1] {
            case UInt8(ascii: "/"): return try readEndTag()
            case UInt8(ascii: "?"): try readProcessingInstruction()
            case UInt8(ascii: "!"):
                if try hasPrefix("<!--") {
                    try skip(past: "-->", what: "comment")
                } else if try hasPrefix("<![CDATA[") {
                    let start = pos + 9
                    let end = try find("]]>", from: start, keep: pos, what: "CDATA section")
                    let text = try decode(start..<end, entities: false)
                    advance(to: end + 3)
                    return .text(text, cdata: true)
                } else if try hasPrefix("<!DOCTYPE") {
                    try readDoctype()
                } else {
                    throw error("unknown markup declaration")
                }
            default: return try readStartTag()
            }
        }
    }

    // MARK: Markup

    private func readStartTag() throws(FormatError) -> XMLEvent {
        let tagStart = pos
        if sawRoot && stack.isEmpty { throw error("more than one root element") }
        var i = pos + 1
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
            guard try window.fill(keepingFrom: tagStart) else { throw error("unexpected end of file inside a tag; the file is truncated") }
        }
        let selfClosing = window[i - 1] == UInt8(ascii: "/")
        let contentEnd = selfClosing ? i - 1 : i
        var j = tagStart + 1
        let (qname, local, elementPrefix) = scanQualifiedName(&j, end: contentEnd)
        guard !qname.isEmpty else { throw error("missing element name after '<'") }
        var attributes: [XMLAttribute] = []
        while true {
            while j < contentEnd, isSpace(window[j]) { j += 1 }
            if j >= contentEnd { break }
            let (attrName, attrLocal, attrPrefix) = scanQualifiedName(&j, end: contentEnd)
            guard !attrName.isEmpty else { throw error("malformed attribute in <\(qname)>") }
            while j < contentEnd, isSpace(window[j]) { j += 1 }
            guard j < contentEnd, window[j] == UInt8(ascii: "=") else { throw error("attribute \(attrName) in <\(qname)> has no value") }
            j += 1
            while j < contentEnd, isSpace(window[j]) { j += 1 }
            guard j < contentEnd, window[j] == UInt8(ascii: "\"") || window[j] == UInt8(ascii: "'") else {
                throw error("attribute \(attrName) in <\(qname)> must be quoted")
            }
            let q = window[j]
            var k = j + 1
            while k < contentEnd, window[k] != q { k += 1 }
            let value = try decode((j + 1)..<k, entities: true)
            attributes.append(XMLAttribute(name: attrLocal, value: value, prefix: attrPrefix))
            j = k + 1
        }
        advance(to: i + 1)
        sawRoot = true
        if selfClosing {
            pendingEnd = local
        } else {
            stack.append(qname)
            depth = stack.count
            if depth > maxDepth {
                throw FormatError.limitExceeded(file: name, message: "line \(line): XML nested deeper than \(maxDepth) levels (ReaderLimits.maxNesting)")
            }
        }
        return .start(name: local, prefix: elementPrefix, attributes: attributes, selfClosing: selfClosing)
    }

    private func readEndTag() throws(FormatError) -> XMLEvent {
        let start = pos
        let close = try find(">", from: pos + 2, keep: start, what: "end tag")
        var j = start + 2
        let (qname, local, _) = scanQualifiedName(&j, end: close)
        guard let open = stack.last else { throw error("end tag </\(qname)> without a start tag") }
        guard open == qname else { throw error("end tag </\(qname)> does not match <\(open)>") }
        stack.removeLast()
        depth = stack.count
        advance(to: close + 1)
        return .end(name: local)
    }

    private func readProcessingInstruction() throws(FormatError) {
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
    private func readDoctype() throws(FormatError) {
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
            guard try window.fill(keepingFrom: start) else { throw error("unexpected end of file inside <!DOCTYPE>; the file is truncated") }
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

    private func readText() throws(FormatError) -> String {
        let start = pos
        var i = pos
        while true {
            let n = window.end - i
            if n > 0, let hit = memchr(window.storage + (i - window.base), Int32(UInt8(ascii: "<")), n) {
                i = window.base + (UnsafeMutableRawPointer(hit) - window.storage)
                break
            }
            i = window.end
            guard try window.fill(keepingFrom: start) else {
                if stack.isEmpty { break }
                throw error("unexpected end of file inside <\(stack.last!)>; the file is truncated")
            }
        }
        let text = try decode(start..<i, entities: true)
        advance(to: i)
        return text
    }

    /// Decodes bytes as UTF-8 (or Latin-1) text, resolving predefined entities and character references.
    private func decode(_ range: Range<Int>, entities: Bool) throws(FormatError) -> String {
        let bytes = window.bytes(range)
        if latin1 { return decodeLatin1(bytes, entities: entities) }
        if bytes.isEmpty { return "" }
        let hasAmp = entities && memchr(bytes.baseAddress!, Int32(UInt8(ascii: "&")), bytes.count) != nil
        if !hasAmp {
            guard let s = String(validating: bytes, as: UTF8.self) else { throw invalidUTF8(range) }
            return s
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b != UInt8(ascii: "&") {
                out.append(b)
                i += 1
                continue
            }
            var j = i + 1
            while j < bytes.count, bytes[j] != UInt8(ascii: ";"), j - i < 12 { j += 1 }
            guard j < bytes.count, bytes[j] == UInt8(ascii: ";") else { throw error("unterminated entity reference near '&'") }
            let ref = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(i + 1)..<j]), as: UTF8.self)
            guard let scalar = Self.entity(ref) else {
                throw error("undefined entity &\(ref); (only the five XML entities and character references are allowed)")
            }
            out.append(contentsOf: String(Character(scalar)).utf8)
            i = j + 1
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw invalidUTF8(range) }
        return s
    }

    private func decodeLatin1(_ bytes: UnsafeRawBufferPointer, entities: Bool) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(b)) }
        let text = String(s)
        guard entities, text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), let scalar = Self.entity(String(rest[rest.index(after: amp)..<semi])) else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            out.unicodeScalars.append(scalar)
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    private func invalidUTF8(_ range: Range<Int>) -> FormatError {
        error("invalid UTF-8 in text; the file must be UTF-8 (or declare encoding=\"ISO-8859-1\")")
    }

    static func entity(_ ref: String) -> Unicode.Scalar? {
        switch ref {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            guard ref.hasPrefix("#") else { return nil }
            let digits = ref.dropFirst()
            let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            return value.flatMap(Unicode.Scalar.init)
        }
    }

    // MARK: Byte helpers

    private func skipBOM() throws(FormatError) {
        _ = try ensure(3)
        if window.end - pos >= 3, window[pos] == 0xEF, window[pos + 1] == 0xBB, window[pos + 2] == 0xBF {
            pos = 3
            lineStart = 3
        }
    }

    /// Makes sure `n` bytes from `pos` are in the window; false at end of input.
    private func ensure(_ n: Int) throws(FormatError) -> Bool {
        while window.end - pos < n {
            guard try window.fill(keepingFrom: pos) else { return false }
        }
        return true
    }

    private func hasPrefix(_ s: StaticString) throws(FormatError) -> Bool {
        let n = s.utf8CodeUnitCount
        guard try ensure(n) else { return false }
        for k in 0..<n where window[pos + k] != s.utf8Start[k] { return false }
        return true
    }

    /// Absolute offset of `terminator` at or after `from`, refilling and keeping from `keep`.
    private func find(_ terminator: StaticString, from: Int, keep: Int, what: String) throws(FormatError) -> Int {
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
            guard try window.fill(keepingFrom: keep) else { throw error("unexpected end of file inside a \(what); the file is truncated") }
        }
    }

    private func skip(past terminator: StaticString, what: String) throws(FormatError) {
        let end = try find(terminator, from: pos, keep: pos, what: what)
        advance(to: end + terminator.utf8CodeUnitCount)
    }

    /// Moves `pos` to `to`, counting the newlines passed.
    private func advance(to: Int) {
        let p = window.storage
        let base = window.base
        var i = pos
        while i < to {
            if p.load(fromByteOffset: i - base, as: UInt8.self) == 0x0A {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        pos = to
    }

    /// Reads a (possibly prefixed) name: returns the qualified name, local name and prefix.
    private func scanQualifiedName(_ j: inout Int, end: Int) -> (String, String, String) {
        let start = j
        var colon = -1
        while j < end {
            let b = window[j]
            if isSpace(b) || b == UInt8(ascii: "=") || b == UInt8(ascii: ">") || b == UInt8(ascii: "/") { break }
            if b == UInt8(ascii: ":") { colon = j }
            j += 1
        }
        let qname = String(decoding: window.bytes(start..<j), as: UTF8.self)
        guard colon >= 0 else { return (qname, qname, "") }
        return (qname, String(decoding: window.bytes((colon + 1)..<j), as: UTF8.self), String(decoding: window.bytes(start..<colon), as: UTF8.self))
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

    static func prefix(_ qname: String) -> String {
        guard let colon = qname.lastIndex(of: ":") else { return "" }
        return String(qname[..<colon])
    }

    static func localName(_ qname: String) -> String {
        guard let colon = qname.lastIndex(of: ":") else { return qname }
        return String(qname[qname.index(after: colon)...])
    }

    @inline(__always) private func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}
