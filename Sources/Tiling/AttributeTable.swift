/// Every distinct attribute key and value of a tiling run, interned once at load time.
///
/// Features then carry `(key id, value id)` pairs, and the per-tile layer builder dedupes
/// integers instead of hashing strings, copying each key's and value's protobuf encoding
/// from here. On the cities benchmark this removes most of the per-tile work.
struct AttributeTable: Sendable {
    private(set) var keys: [String] = []
    private(set) var values: [MVTValue] = []
    /// `Layer.keys` field (3) encodings, ready to append.
    private(set) var keyFields: [[UInt8]] = []
    /// `Layer.values` field (4) encodings, ready to append.
    private(set) var valueFields: [[UInt8]] = []
    private var keyIndex: [String: UInt32] = [:]
    private var valueIndex: [MVTValue: UInt32] = [:]

    mutating func intern(key: String) -> UInt32 {
        if let i = keyIndex[key] { return i }
        let i = UInt32(keys.count)
        keys.append(key)
        var w = ProtobufWriter()
        w.stringField(3, key)
        keyFields.append(w.bytes)
        keyIndex[key] = i
        return i
    }

    mutating func intern(value: MVTValue) -> UInt32 {
        if let i = valueIndex[value] { return i }
        let i = UInt32(values.count)
        values.append(value)
        var inner = ProtobufWriter()
        value.encode(into: &inner)
        var w = ProtobufWriter()
        w.bytesField(4, inner.bytes)
        valueFields.append(w.bytes)
        valueIndex[value] = i
        return i
    }

    /// Drops the lookup dictionaries once loading is done (they are not needed for tiling).
    mutating func freeze() {
        keyIndex = [:]
        valueIndex = [:]
    }
}

/// An attribute of a feature as ids into an `AttributeTable`.
struct AttributeRef: Sendable, Hashable {
    var key: UInt32
    var value: UInt32
}

/// A small open-addressing map from UInt32 to UInt32 (multiplicative hashing), for the
/// per-tile key and value dedupe; much cheaper than `Dictionary` with SipHash.
struct UInt32Map: Sendable {
    private var slots: [UInt64]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int = 16) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [UInt64](repeating: UInt32Map.empty, count: n)
        mask = n - 1
    }

    /// The value for `key`, inserting `next` when absent (then `inserted` is true).
    mutating func index(for key: UInt32, next: UInt32) -> (value: UInt32, inserted: Bool) {
        var i = Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        while true {
            let s = slots[i]
            if s == UInt32Map.empty {
                slots[i] = UInt64(key) << 32 | UInt64(next)
                count += 1
                if count * 2 > slots.count { grow() }
                return (next, true)
            }
            if UInt32(truncatingIfNeeded: s >> 32) == key { return (UInt32(truncatingIfNeeded: s), false) }
            i = (i + 1) & mask
        }
    }

    /// Sets the value of `key`, which must be present.
    mutating func set(_ key: UInt32, to value: UInt32) {
        var i = Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        while UInt32(truncatingIfNeeded: slots[i] >> 32) != key || slots[i] == UInt32Map.empty { i = (i + 1) & mask }
        slots[i] = UInt64(key) << 32 | UInt64(value)
    }

    /// The value for `key`, inserting `make()` when absent.
    mutating func value(for key: UInt32, orInsert make: () -> UInt32) -> UInt32 {
        var i = Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        while true {
            let s = slots[i]
            if s == UInt32Map.empty {
                let v = make()
                slots[i] = UInt64(key) << 32 | UInt64(v)
                count += 1
                if count * 2 > slots.count { grow() }
                return v
            }
            if UInt32(truncatingIfNeeded: s >> 32) == key { return UInt32(truncatingIfNeeded: s) }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: UInt32Map.empty, count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for s in old where s != UInt32Map.empty {
            _ = value(for: UInt32(truncatingIfNeeded: s >> 32)) { UInt32(truncatingIfNeeded: s) }
        }
    }
}
