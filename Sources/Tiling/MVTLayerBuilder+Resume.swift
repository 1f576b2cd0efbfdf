/// The keys and values of a stored layer, each by its encoded field (tag, length, bytes):
/// a new feature's key or value with the same encoding reuses that index (the first one with
/// it: a NaN can appear twice).
///
/// The first few lookups scan the stored fields; only a layer asked more often gets a hash
/// table. A one-feature append into a dense low-zoom tile (tens of thousands of values) then
/// costs a few scans instead of hashing every value.
struct ResumedFields: Sendable {
    /// The stored tile and the byte offsets in it where the layer's key and value fields start
    /// (each field ends where the next starts; the last at `keysEnd` / `valuesEnd`).
    let tile: [UInt8]
    let keyStarts: [Int]
    let valueStarts: [Int]
    let keysEnd: Int
    let valuesEnd: Int
    private var keyTable: [ArraySlice<UInt8>: UInt32]?
    private var valueTable: [ArraySlice<UInt8>: UInt32]?
    private var lookups = 0
    static let scansBeforeTable = 16

    init(tile: [UInt8], keyStarts: [Int], keysEnd: Int, valueStarts: [Int], valuesEnd: Int) {
        self.tile = tile
        self.keyStarts = keyStarts
        self.keysEnd = keysEnd
        self.valueStarts = valueStarts
        self.valuesEnd = valuesEnd
    }

    /// The index of the stored key encoded as `field`, or nil.
    mutating func key(_ field: [UInt8]) -> UInt32? {
        if keyTable == nil, lookups >= ResumedFields.scansBeforeTable { keyTable = ResumedFields.table(tile, keyStarts, keysEnd) }
        lookups += 1
        return keyTable.map { $0[field[...]] } ?? ResumedFields.scan(field, tile, keyStarts, keysEnd)
    }

    /// The index of the first stored value encoded as `field`, or nil.
    mutating func value(_ field: [UInt8]) -> UInt32? {
        if valueTable == nil, lookups >= ResumedFields.scansBeforeTable { valueTable = ResumedFields.table(tile, valueStarts, valuesEnd) }
        lookups += 1
        return valueTable.map { $0[field[...]] } ?? ResumedFields.scan(field, tile, valueStarts, valuesEnd)
    }

    private static func end(of i: Int, _ starts: [Int], _ last: Int) -> Int {
        i + 1 < starts.count ? starts[i + 1] : last
    }

    private static func scan(_ field: [UInt8], _ tile: [UInt8], _ starts: [Int], _ last: Int) -> UInt32? {
        for i in starts.indices where end(of: i, starts, last) - starts[i] == field.count {
            if tile[starts[i]..<end(of: i, starts, last)].elementsEqual(field) { return UInt32(i) }
        }
        return nil
    }

    private static func table(_ tile: [UInt8], _ starts: [Int], _ last: Int) -> [ArraySlice<UInt8>: UInt32] {
        var out: [ArraySlice<UInt8>: UInt32] = [:]
        out.reserveCapacity(starts.count)
        for i in starts.indices.reversed() { out[tile[starts[i]..<end(of: i, starts, last)]] = UInt32(i) }  // the first wins
        return out
    }
}

/// Continuing a layer tiledrop already encoded, without decoding it.
///
/// The incremental tiler extends a stored tile's layer with appended features. A full run
/// would have added the stored features first, in the same order, so their messages, keys and
/// values are already the bytes it would write: they are copied as they are. Keys and values
/// are indexed by their encoded bytes (nothing is decoded into strings or values), so the new
/// features reuse their indices and introduce the rest in first-use order. That keeps a dense
/// low-zoom tile, with tens of thousands of values, cheap to extend.
extension MVTLayerBuilder {
    /// The layers of an encoded tile, by name, with each layer message's byte range in `tile`
    /// (nothing inside a layer is decoded but its name).
    static func layerRanges(of tile: [UInt8]) throws(TilingError) -> [(name: String, range: Range<Int>)] {
        var r = ProtobufReader(tile)
        var out: [(name: String, range: Range<Int>)] = []
        while !r.atEnd {
            let (field, wire) = try r.key()
            guard field == 3 else {
                try r.skip(wireType: wire)
                continue
            }
            guard wire == 2 else { throw .invalidTile("tile field 3 (layers) has wire type \(wire)") }
            let range = try r.lengthDelimited()
            var lr = ProtobufReader(tile, from: range.lowerBound, to: range.upperBound)
            var name: String?
            while !lr.atEnd, name == nil {
                let (f, w) = try lr.key()
                if f == 1, w == 2 {
                    name = String(validating: tile[try lr.lengthDelimited()], as: UTF8.self)
                } else {
                    try lr.skip(wireType: w)
                }
            }
            guard let name else { throw .invalidTile("a stored layer has no name") }
            out.append((name, range))
        }
        return out
    }

    /// A builder holding the layer message `tile[range]` as tiledrop's builder wrote it
    /// (version, name, features, keys, values, extent): `encoded()` gives those bytes back and
    /// further features go after the stored ones. Throws when the layer is not one this
    /// builder could have written (fields out of order, a repeated key).
    init(resuming tile: [UInt8], range: Range<Int>) throws(TilingError) {
        var r = ProtobufReader(tile, from: range.lowerBound, to: range.upperBound)
        var name: String?, extent: UInt64?
        var section = 0  // 0 version/name, 1 features, 2 keys, 3 values, 4 extent
        var features: [UInt8] = [], keyFields: [UInt8] = [], valueFields: [UInt8] = []
        var keyStarts: [Int] = [], valueStarts: [Int] = [], keysEnd = 0, valuesEnd = 0
        var keysSeen = Set<ArraySlice<UInt8>>()
        var count = 0
        func order(_ s: Int) throws(TilingError) {
            guard s >= section else { throw .invalidTile("stored layer fields are not in the order tiledrop writes them") }
            section = s
        }
        while !r.atEnd {
            let start = r.pos
            let (field, wire) = try r.key()
            switch (field, wire) {
            case (15, 0): try order(0); _ = try r.varint()
            case (1, 2):
                try order(0)
                name = String(validating: tile[try r.lengthDelimited()], as: UTF8.self)
            case (2, 2):
                try order(1)
                _ = try r.lengthDelimited()
                features.append(contentsOf: tile[start..<r.pos])
                count += 1
            case (3, 2):
                try order(2)
                _ = try r.lengthDelimited()
                guard keysSeen.insert(tile[start..<r.pos]).inserted else { throw .invalidTile("stored layer repeats a key") }
                keyStarts.append(start)
                keysEnd = r.pos
                keyFields.append(contentsOf: tile[start..<r.pos])
            case (4, 2):
                try order(3)
                _ = try r.lengthDelimited()
                valueStarts.append(start)
                valuesEnd = r.pos
                valueFields.append(contentsOf: tile[start..<r.pos])
            case (5, 0): try order(4); extent = try r.varint()
            default: throw .invalidTile("stored layer has field \(field) (wire type \(wire)), which tiledrop does not write")
            }
        }
        guard let name, let extent, extent > 0, extent <= UInt64(UInt32.max) else { throw .invalidTile("stored layer lacks its name or extent") }
        self.init(name: name, extent: UInt32(extent))
        keyCount = keyStarts.count
        valueCount = valueStarts.count
        resumed = ResumedFields(tile: tile, keyStarts: keyStarts, keysEnd: keysEnd, valueStarts: valueStarts, valuesEnd: valuesEnd)
        self.features.bytes = features
        self.keyFields = keyFields
        self.valueFields = valueFields
        featureCount = count
    }
}
