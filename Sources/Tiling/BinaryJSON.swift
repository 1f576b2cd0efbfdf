import GeoModel

/// A lossless binary form of `JSONValue` for records that keep their source properties
/// (layers whose expressions read them per zoom).
///
/// Text JSON would not round-trip exactly (`4.0` comes back as the integer `4`, which MVT
/// encodes as a different value type), and it is slower to read back. Each value is a `u8`
/// kind (0 null, 1 false, 2 true, 3 int, 4 double, 5 string, 6 array, 7 object) followed by
/// its payload: `i64`/`f64`, or a `u32` byte/element count and the bytes/elements (object
/// members as a string key and a value).
enum BinaryJSON {
    static func write(_ v: JSONValue, to a: ByteArena) {
        switch v {
        case .null: a.append(UInt8(0))
        case .bool(let b): a.append(UInt8(b ? 2 : 1))
        case .int(let i): a.append(UInt8(3)); a.append(i)
        case .double(let d): a.append(UInt8(4)); a.append(d)
        case .string(let s): a.append(UInt8(5)); string(s, a)
        case .array(let items):
            a.append(UInt8(6))
            a.append(UInt32(items.count))
            for item in items { write(item, to: a) }
        case .object(let o):
            a.append(UInt8(7))
            a.append(UInt32(o.count))
            for m in o {
                string(m.key, a)
                write(m.value, to: a)
            }
        }
    }

    private static func string(_ s: String, _ a: ByteArena) {
        var s = s
        s.withUTF8 { u in
            a.append(UInt32(u.count))
            a.append(bytes: UnsafeRawBufferPointer(u))
        }
    }

    /// Reads a value written by `write` at `offset`, advancing it.
    static func read(_ p: UnsafeRawPointer, _ offset: inout Int) -> JSONValue {
        let kind = p.load(fromByteOffset: offset, as: UInt8.self)
        offset += 1
        switch kind {
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: defer { offset += 8 }; return .int(p.loadUnaligned(fromByteOffset: offset, as: Int64.self))
        case 4: defer { offset += 8 }; return .double(p.loadUnaligned(fromByteOffset: offset, as: Double.self))
        case 5: return .string(readString(p, &offset))
        case 6:
            let n = Int(p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            offset += 4
            return .array((0..<n).map { _ in read(p, &offset) })
        case 7:
            let n = Int(p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            offset += 4
            var o = JSONObject(capacity: n)
            for _ in 0..<n {
                let key = readString(p, &offset)
                o[key] = read(p, &offset)
            }
            return .object(o)
        default: return .null
        }
    }

    private static func readString(_ p: UnsafeRawPointer, _ offset: inout Int) -> String {
        let n = Int(p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        defer { offset += 4 + n }
        return String(decoding: UnsafeRawBufferPointer(start: p + offset + 4, count: n), as: UTF8.self)
    }
}
