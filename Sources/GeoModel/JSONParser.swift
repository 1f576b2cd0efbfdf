#if canImport(Glibc)
import Glibc
#endif

/// A strict RFC 8259 parser working directly on UTF-8 bytes.
///
/// It parses one complete value (surrounding whitespace allowed) and rejects anything else
/// with a `JSONError` that carries line and column. Strings must be valid UTF-8, nesting is
/// capped (`maxDepth`) so hostile input cannot exhaust the stack, and numbers that overflow
/// a Double are refused rather than silently becoming infinity.
public struct JSONParser {
    public static let defaultMaxDepth = 256

    package let bytes: UnsafeRawBufferPointer
    /// Offset of the next unread byte.
    package var pos = 0
    private let maxDepth: Int

    /// A cursor over `bytes` for callers that drive the parse themselves (the GeoJSON
    /// feature decoder): they read members with the `package` methods below.
    package init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses exactly one JSON value from `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        var p = JSONParser(bytes: bytes, maxDepth: maxDepth)
        p.skipWhitespace()
        let v = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos < bytes.count { throw p.error("unexpected data after the JSON value") }
        return v
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError> = bytes.withUnsafeBytes { buf in
            do throws(JSONError) { return .success(try parse(buf, maxDepth: maxDepth)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Computes the 1-based line and column of a byte offset in `bytes`.
    public static func lineAndColumn(of offset: Int, in bytes: UnsafeRawBufferPointer) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        let end = min(offset, bytes.count)
        var i = 0
        while i < end {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        return (line, end - lineStart + 1)
    }

    private func error(_ message: String, at offset: Int? = nil) -> JSONError {
        let o = offset ?? pos
        let (line, column) = JSONParser.lineAndColumn(of: o, in: bytes)
        return JSONError(message: message, offset: o, line: line, column: column)
    }

    package mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    private func describeByte(_ b: UInt8) -> String {
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(String(b, radix: 16))"
    }

    package mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard pos < bytes.count else { throw error("unexpected end of input; the JSON text is truncated") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case let b: throw error("unexpected \(describeByte(b)); expected a JSON value")
        }
    }

    private mutating func expectLiteral(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw error("unexpected end of input; the JSON text is truncated") }
        let w = word.utf8Start
        for i in 0..<n where bytes[pos + i] != w[i] {
            throw error("invalid literal; expected '\(word)'")
        }
        pos += n
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONObject {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        pos += 1
        var object = JSONObject()
        var keyLengths: UInt64 = 0  // bit n: a key of n UTF-8 bytes was seen
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return object
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input inside an object; the JSON text is truncated") }
            guard bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a quoted member name, found \(describeByte(bytes[pos]))") }
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':' after member name \"\(key)\"") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            // A repeated member replaces the earlier one (JSONObject semantics). Keys are
            // compared only when their lengths match: a failed String comparison is slow.
            let lengthBit: UInt64 = 1 << UInt64(min(key.utf8.count, 63))
            if keyLengths & lengthBit != 0 {
                object[key] = value
            } else {
                object.appendUnchecked(key: key, value: value)
            }
            keyLengths |= lengthBit
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input inside an object; the JSON text is truncated") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return object }
            throw error("expected ',' or '}' in object, found \(describeByte(bytes[pos]))")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> [JSONValue] {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        pos += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return array
        }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input inside an array; the JSON text is truncated") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return array }
            throw error("expected ',' or ']' in array, found \(describeByte(bytes[pos]))")
        }
    }

    package mutating func parseString() throws(JSONError) -> String {
        let start = pos
        pos += 1
        let contentStart = pos
        // Fast path: no escapes; pure ASCII needs no UTF-8 validation.
        var highBits: UInt8 = 0
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[contentStart..<pos])
                pos += 1
                if highBits >= 0x80, !JSONParser.isValidUTF8(slice) {
                    throw error("string is not valid UTF-8; re-save the file as UTF-8", at: start)
                }
                return JSONParser.string(slice)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character \(describeByte(b)) inside a string; escape it") }
            highBits |= b
            pos += 1
        }
        var out: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[contentStart..<pos]))
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                let s = out.withUnsafeBytes { JSONParser.isValidUTF8($0) ? JSONParser.string($0) : nil }
                guard let s else { throw error("string is not valid UTF-8; re-save the file as UTF-8", at: start) }
                return s
            }
            if b < 0x20 { throw error("control character \(describeByte(b)) inside a string; escape it") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                pos += 1
                continue
            }
            pos += 1
            guard pos < bytes.count else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired UTF-16 surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("invalid UTF-16 low surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("unpaired UTF-16 surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in string", at: pos - 2)
            }
        }
        throw error("unterminated string; the JSON text is truncated", at: start)
    }

    /// A String from bytes already known to be valid UTF-8 (no second validation pass).
    @inline(__always)
    package static func string(_ utf8: UnsafeRawBufferPointer) -> String {
        String(decoding: UnsafeBufferPointer(start: utf8.baseAddress?.assumingMemoryBound(to: UInt8.self), count: utf8.count), as: UTF8.self)
    }

    /// UTF-8 well-formedness (Unicode 15, Table 3-7): no overlong forms, no surrogates,
    /// nothing above U+10FFFF, no truncated sequences.
    package static func isValidUTF8(_ u: UnsafeRawBufferPointer) -> Bool {
        let n = u.count
        var i = 0
        while i < n {
            let b = u[i]
            if b < 0x80 {
                i += 1
                continue
            }
            var need = 0
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2
            case 0xED: need = 2; high = 0x9F
            case 0xF0: need = 3; low = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; high = 0x8F
            default: return false
            }
            guard i + need < n, u[i + 1] >= low, u[i + 1] <= high else { return false }
            var k = 2
            while k <= need {
                if u[i + k] & 0xC0 != 0x80 { return false }
                k += 1
            }
            i += need + 1
        }
        return true
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    package mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = pos
        var negative = false
        if bytes[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var fracDigits = 0
        var isInteger = true
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number: expected a digit", at: start) }
        // Digits are scanned with a local index (not `pos`, a stored property) in tight loops.
        var i = pos
        let n = bytes.count
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < n, isDigit(bytes[i]) { throw error("invalid number: leading zeros are not allowed", at: start) }
        } else {
            while i < n, isDigit(bytes[i]) {
                significant += 1
                if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[i] - 48) }
                i += 1
            }
        }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < n, isDigit(bytes[i]) else { pos = i; throw error("invalid number: expected a digit after '.'", at: start) }
            while i < n, isDigit(bytes[i]) {
                if significant > 0 {
                    // Eight digits at a time while they still fit the 19-digit mantissa.
                    while significant <= 11, i + 8 <= n, let eight = JSONParser.eightDigits(bytes.baseAddress! + i) {
                        mantissa = mantissa &* 100_000_000 &+ eight
                        significant += 8
                        fracDigits += 8
                        i += 8
                    }
                    guard i < n, isDigit(bytes[i]) else { break }
                    significant += 1
                } else if bytes[i] != 48 {
                    significant += 1
                }
                if significant <= 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[i] - 48)
                    fracDigits += 1
                }
                i += 1
            }
        }
        pos = i
        var exponent = 0
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            var expNegative = false
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") {
                expNegative = bytes[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number: expected a digit in the exponent", at: start) }
            while pos < bytes.count, isDigit(bytes[pos]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[pos] - 48) }
                pos += 1
            }
            if expNegative { exponent = -exponent }
        }
        if isInteger && significant <= 18 {
            let v = Int64(mantissa)
            return .int(negative ? -v : v)
        }
        if significant <= 19, let d = DecimalToDouble.convert(mantissa: mantissa, exponent: exponent - fracDigits, negative: negative) {
            guard d.isFinite else { throw tooLarge(start) }
            return .double(d)
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<pos])
        if isInteger, let i = Int64(String(decoding: text, as: UTF8.self)) { return .int(i) }
        let d = DecimalToDouble.strtod(text)
        guard d.isFinite else { throw tooLarge(start) }
        return .double(d)
    }

    /// The value of eight ASCII digits at `p`, or nil when any byte is not a digit
    /// (SWAR, as in simdjson / fast_float: D. Lemire, "Number Parsing at a Gigabyte per Second").
    @inline(__always)
    static func eightDigits(_ p: UnsafeRawPointer) -> UInt64? {
        var v = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        guard ((v &+ 0x4646_4646_4646_4646) | (v &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0 else { return nil }
        v = v &- 0x3030_3030_3030_3030
        v = v &* 10 &+ (v >> 8)
        v = (((v & 0x0000_00FF_0000_00FF) &* 0x000F_4240_0000_0064) &+ (((v >> 16) & 0x0000_00FF_0000_00FF) &* 0x0000_2710_0000_0001)) >> 32
        return v & 0xFFFF_FFFF
    }

    private func tooLarge(_ start: Int) -> JSONError {
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<pos])
        return error("number \(String(decoding: text, as: UTF8.self).prefix(40)) is too large to represent", at: start)
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
}
