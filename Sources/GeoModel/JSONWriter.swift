/// Serialises `JSONValue`s to compact UTF-8 JSON (RFC 8259), appending to a byte buffer.
///
/// Doubles are written in Swift's shortest round-trip form, so a value read by `JSONParser`
/// and written back is the same number. Non-finite doubles, which JSON cannot express,
/// are written as `null`.
public struct JSONWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The compact JSON text of `value`.
    public static func string(_ value: JSONValue) -> String {
        var w = JSONWriter()
        w.write(value)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): writeInt(i)
        case .double(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(v)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o): write(o)
        }
    }

    public mutating func write(_ object: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for m in object {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            writeString(m.key)
            bytes.append(UInt8(ascii: ":"))
            write(m.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func append(_ raw: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: raw.utf8Start, count: raw.utf8CodeUnitCount))
    }

    public mutating func writeInt(_ i: Int64) {
        if i >= 0 && i < 10 {
            bytes.append(UInt8(48 + i))
            return
        }
        bytes.append(contentsOf: String(i).utf8)
    }

    public mutating func writeDouble(_ d: Double) {
        guard d.isFinite else { append("null"); return }
        if d == d.rounded(.towardZero) && abs(d) < 1e15 {
            writeInt(Int64(d))
            if d == 0 && d.sign == .minus { bytes.insert(UInt8(ascii: "-"), at: bytes.count - 1) }
            return
        }
        bytes.append(contentsOf: d.description.utf8)
    }

    public mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                switch b {
                case 0x22: append("\\\"")
                case 0x5C: append("\\\\")
                case 0x0A: append("\\n")
                case 0x0D: append("\\r")
                case 0x09: append("\\t")
                default:
                    append("\\u00")
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(hex[Int(b >> 4)])
                    bytes.append(hex[Int(b & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
