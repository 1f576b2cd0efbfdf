import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Byte-level XML helpers shared by the event scanner (`XMLScanner`) and the element trees
/// (`XMLTree`): character data validation and decoding, and attribute syntax.
///
/// They work on raw byte views so the scanner can check a whole element at tokenizing time
/// (well-formedness errors keep their line and column) while the trees decode a value into
/// a `String` only when a converter actually asks for it. Only the five predefined entities
/// and character references exist (XML 1.0 §4.6, §4.1); nothing is ever expanded or fetched.
enum XMLText {
    /// A problem found in character data or a tag; the scanner adds file, line and column.
    struct Problem: Error {
        var message: String
    }

    /// One attribute of a start tag: offsets into the scanned buffer.
    struct RawAttribute {
        /// The qualified name.
        var name: Range<Int>
        /// Offset of the `:` in the name, or -1.
        var colon: Int
        /// The value between the quotes, entities not yet decoded.
        var value: Range<Int>
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// Walks the attributes in `p[range]` (the part of a start tag after its name), in order.
    /// Throws a problem naming the attribute when the syntax is wrong (`tag` is for messages).
    static func attributes(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, tag: () -> String,
                           _ body: (RawAttribute) throws(Problem) -> Void) throws(Problem) {
        var j = range.lowerBound
        let end = range.upperBound
        while true {
            while j < end, isSpace(p[j]) { j += 1 }
            if j >= end { return }
            let start = j
            var colon = -1
            while j < end {
                let b = p[j]
                if isSpace(b) || b == UInt8(ascii: "=") || b == UInt8(ascii: ">") || b == UInt8(ascii: "/") { break }
                if b == UInt8(ascii: ":") { colon = j }
                j += 1
            }
            let name = start..<j
            guard !name.isEmpty else { throw Problem(message: "malformed attribute in <\(tag())>") }
            while j < end, isSpace(p[j]) { j += 1 }
            guard j < end, p[j] == UInt8(ascii: "=") else { throw Problem(message: "attribute \(string(p, name)) in <\(tag())> has no value") }
            j += 1
            while j < end, isSpace(p[j]) { j += 1 }
            guard j < end, p[j] == UInt8(ascii: "\"") || p[j] == UInt8(ascii: "'") else {
                throw Problem(message: "attribute \(string(p, name)) in <\(tag())> must be quoted")
            }
            let q = p[j]
            var k = j + 1
            while k < end, p[k] != q { k += 1 }
            try body(RawAttribute(name: name, colon: colon, value: (j + 1)..<k))
            j = k + 1
        }
    }

    /// Checks character data without building a string: valid UTF-8 (unless `latin1`) and,
    /// with `entities`, only well-formed predefined or character references. Returns whether
    /// the bytes contain a reference (so decoding cannot simply copy them).
    static func validate(_ bytes: UnsafeRawBufferPointer, entities: Bool, latin1: Bool) throws(Problem) -> Bool {
        if latin1 || bytes.isEmpty { return entities && !bytes.isEmpty && memchr(bytes.baseAddress!, 0x26, bytes.count) != nil }
        guard JSONParser.isValidUTF8(bytes) else { throw invalidUTF8 }
        guard entities, var hit = memchr(bytes.baseAddress!, 0x26, bytes.count) else { return false }
        let base = bytes.baseAddress!
        while true {
            let i = UnsafeRawPointer(hit) - base
            let j = try referenceEnd(bytes, at: i)
            guard entity(bytes, (i + 1)..<j) != nil else { throw undefined(bytes, (i + 1)..<j) }
            let next = j + 1
            guard next < bytes.count, let h = memchr(base + next, 0x26, bytes.count - next) else { return true }
            hit = h
        }
    }

    /// Decodes character data into a string, resolving the predefined entities and character
    /// references; ISO-8859-1 / Windows-1252 documents are transcoded.
    static func decode(_ bytes: UnsafeRawBufferPointer, entities: Bool, latin1: Bool) throws(Problem) -> String {
        if latin1 { return decodeLatin1(bytes, entities: entities) }
        if bytes.isEmpty { return "" }
        let hasAmp = entities && memchr(bytes.baseAddress!, 0x26, bytes.count) != nil
        if !hasAmp {
            guard JSONParser.isValidUTF8(bytes) else { throw invalidUTF8 }
            return JSONParser.string(bytes)
        }
        // A reference is never shorter than its UTF-8 (`&lt;` → 1 byte, `&#x10000;` → 4), so
        // the decoded text fits in the input's size: decode straight into the string.
        var problem: Problem?
        let s = String(unsafeUninitializedCapacity: bytes.count) { out in
            var i = 0, n = 0
            while i < bytes.count {
                let b = bytes[i]
                if b != UInt8(ascii: "&") {
                    out[n] = b
                    n += 1
                    i += 1
                    continue
                }
                do throws(Problem) {
                    let j = try referenceEnd(bytes, at: i)
                    guard let scalar = entity(bytes, (i + 1)..<j) else { throw undefined(bytes, (i + 1)..<j) }
                    UTF8.encode(scalar) { out[n] = $0; n += 1 }
                    i = j + 1
                } catch {
                    problem = error
                    return 0
                }
            }
            return n
        }
        if let problem { throw problem }
        // References decode to whole scalars, so the text is valid exactly when the input is.
        guard JSONParser.isValidUTF8(bytes) else { throw invalidUTF8 }
        return s
    }

    /// The offset of the `;` ending the reference that starts with `&` at `i`.
    private static func referenceEnd(_ bytes: UnsafeRawBufferPointer, at i: Int) throws(Problem) -> Int {
        var j = i + 1
        while j < bytes.count, bytes[j] != UInt8(ascii: ";"), j - i < 12 { j += 1 }
        guard j < bytes.count, bytes[j] == UInt8(ascii: ";") else { throw Problem(message: "unterminated entity reference near '&'") }
        return j
    }

    private static func entity(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Unicode.Scalar? {
        entity(string(bytes, range))
    }

    private static func undefined(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Problem {
        Problem(message: "undefined entity &\(string(bytes, range)); (only the five XML entities and character references are allowed)")
    }

    static let invalidUTF8 = Problem(message: "invalid UTF-8 in text; the file must be UTF-8 (or declare encoding=\"ISO-8859-1\")")

    private static func decodeLatin1(_ bytes: UnsafeRawBufferPointer, entities: Bool) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(b)) }
        let text = String(s)
        guard entities, text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), let scalar = entity(String(rest[rest.index(after: amp)..<semi])) else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            out.unicodeScalars.append(scalar)
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
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

    /// The bytes as a string (names and messages; invalid UTF-8 is repaired).
    static func string(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: p[range]), as: UTF8.self)
    }

    /// Whether `p[range]` holds exactly the UTF-8 bytes of `name`.
    @inline(__always) static func equal(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ name: UnsafeRawBufferPointer) -> Bool {
        range.count == name.count && (name.count == 0 || memcmp(p.baseAddress! + range.lowerBound, name.baseAddress!, name.count) == 0)
    }
}
