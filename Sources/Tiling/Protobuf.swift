/// Minimal protocol-buffers wire-format writer (varints, tags, length-delimited fields).
///
/// MVT 2.1 (`vector_tile.proto`) needs only wire types 0 (varint), 1 (64-bit), 2 (length
/// delimited) and 5 (32-bit); a generated codec would be a package dependency we do not allow.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    mutating func varintField(_ field: Int, _ value: UInt64) {
        tag(field, 0)
        varint(value)
    }

    mutating func bytesField(_ field: Int, _ data: [UInt8]) {
        tag(field, 2)
        varint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    mutating func stringField(_ field: Int, _ s: String) {
        tag(field, 2)
        let utf8 = s.utf8
        varint(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func packedField(_ field: Int, _ values: [UInt32]) {
        guard !values.isEmpty else { return }
        var inner = ProtobufWriter(capacity: values.count * 2)
        for v in values { inner.varint(UInt64(v)) }
        bytesField(field, inner.bytes)
    }

    mutating func fixed64Field(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    mutating func fixed32Field(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    /// Number of bytes a varint takes.
    static func varintSize(_ value: UInt64) -> Int {
        var v = value, n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}

/// A protocol-buffers wire-format reader over a byte slice; every read is bounds-checked.
struct ProtobufReader {
    let bytes: [UInt8]
    var pos: Int
    let end: Int

    init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
        self.bytes = bytes
        pos = from
        end = to ?? bytes.count
    }

    var atEnd: Bool { pos >= end }

    mutating func varint() throws(TilingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < end else { throw .invalidTile("truncated varint at byte \(pos)") }
            let b = bytes[pos]
            pos += 1
            guard shift < 64 else { throw .invalidTile("varint longer than 10 bytes at byte \(pos)") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// Reads a field key; returns (field number, wire type).
    mutating func key() throws(TilingError) -> (field: Int, wireType: Int) {
        let k = try varint()
        guard k >> 3 > 0, k >> 3 < 1 << 29 else { throw .invalidTile("invalid field number \(k >> 3) at byte \(pos)") }
        return (Int(k >> 3), Int(k & 7))
    }

    /// Reads a length-delimited field's bounds.
    mutating func lengthDelimited() throws(TilingError) -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - pos) else { throw .invalidTile("length \(n) runs past the end of the message at byte \(pos)") }
        let r = pos..<(pos + Int(n))
        pos += Int(n)
        return r
    }

    mutating func fixed64() throws(TilingError) -> UInt64 {
        guard end - pos >= 8 else { throw .invalidTile("truncated 64-bit value at byte \(pos)") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return v
    }

    mutating func fixed32() throws(TilingError) -> UInt32 {
        guard end - pos >= 4 else { throw .invalidTile("truncated 32-bit value at byte \(pos)") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[pos + i]) << (8 * UInt32(i)) }
        pos += 4
        return v
    }

    /// Skips a field of the given wire type.
    mutating func skip(wireType: Int) throws(TilingError) {
        switch wireType {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw .invalidTile("unsupported wire type \(wireType) at byte \(pos)")
        }
    }

    /// Reads a packed repeated uint32 field.
    mutating func packedUInt32() throws(TilingError) -> [UInt32] {
        let r = try lengthDelimited()
        var sub = ProtobufReader(bytes, from: r.lowerBound, to: r.upperBound)
        var out: [UInt32] = []
        out.reserveCapacity(r.count)
        while !sub.atEnd {
            let v = try sub.varint()
            guard v <= UInt64(UInt32.max) else { throw .invalidTile("packed value \(v) does not fit in 32 bits") }
            out.append(UInt32(v))
        }
        return out
    }
}
