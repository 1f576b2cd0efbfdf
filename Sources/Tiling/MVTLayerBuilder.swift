/// Builds one MVT 2.1 layer: features are committed one at a time, keys and values deduplicated.
///
/// Modelled on vtzero's layer builder: the caller hands over a complete, already valid
/// feature (geometry encoded by `MVTGeometry`), so an invalid feature never reaches the
/// layer. `size` tracks the encoded layer size exactly, which the `layer_size` cap needs.
public struct MVTLayerBuilder: Sendable {
    public let name: String
    public let extent: UInt32
    /// The keys and values added (a resumed builder lists only those added after resuming).
    public internal(set) var keys: [String] = []
    public internal(set) var values: [MVTValue] = []
    /// Interns attributes given as strings (the public path); the tiler passes its own table.
    var local = AttributeTable()
    var keyRefs = UInt32Map()
    var valueRefs = UInt32Map()
    var features = ProtobufWriter()
    var keyFields: [UInt8] = []
    var valueFields: [UInt8] = []
    public internal(set) var featureCount = 0

    public init(name: String, extent: UInt32 = 4096) {
        self.name = name
        self.extent = extent
    }

    var keyCount = 0
    var valueCount = 0
    /// The stored layer's keys and values by their encoded fields, when the builder resumes
    /// one (`init(resuming:range:)`); nil for a layer built from scratch.
    var resumed: ResumedFields?
    private var tags: [UInt32] = []

    /// Adds a feature; `geometry` must be a non-empty command stream for `type`.
    public mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], properties: [(key: String, value: MVTValue)]) {
        let refs = properties.map { AttributeRef(key: local.intern(key: $0.key), value: local.intern(value: $0.value)) }
        addFeature(id: id, type: type, geometry: geometry, attributes: refs, table: local)
    }

    /// Adds a feature whose attributes are ids into `table`.
    mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], attributes: [AttributeRef], table: AttributeTable) {
        var packed = ProtobufWriter(capacity: geometry.count * 2)
        for c in geometry { packed.varint(UInt64(c)) }
        packed.bytes.withUnsafeBytes { g in
            attributes.withUnsafeBytes { a in
                _ = add(id: id, type: type, packedGeometry: g, attributes: a.baseAddress, count: attributes.count, stride: MemoryLayout<AttributeRef>.stride, table: table)
            }
        }
    }

    /// Adds (or, with `measureOnly`, only sizes) a feature whose geometry is already packed
    /// varints and whose attributes are `count` (key id, value id) `UInt32` pairs at `stride`
    /// bytes apart into `table`: the tiler's path, no allocation per feature. Returns the
    /// bytes the feature adds to the layer (its message plus keys and values it introduces).
    ///
    /// Measuring assigns key and value indices as adding would, so measuring the features
    /// after the last one added gives the exact size the whole layer would have had.
    mutating func add(id: UInt64?, type: MVTGeometryType, packedGeometry g: UnsafeRawBufferPointer, attributes: UnsafeRawPointer?, count: Int, stride: Int,
                      table: AttributeTable, measureOnly: Bool = false) -> Int {
        var added = 0
        tags.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let key = attributes!.loadUnaligned(fromByteOffset: i * stride, as: UInt32.self)
            let value = attributes!.loadUnaligned(fromByteOffset: i * stride + 4, as: UInt32.self)
            var k = keyRefs.index(for: key, next: UInt32(keyCount))
            if k.inserted {
                let field = table.keyFields[Int(key)]
                if let stored = resumed?.key(field) {
                    keyRefs.set(key, to: stored)
                    k.value = stored
                } else {
                    keyCount += 1
                    added += field.count
                    if !measureOnly {
                        keys.append(table.keys[Int(key)])
                        keyFields.append(contentsOf: field)
                    }
                }
            }
            var v = valueRefs.index(for: value, next: UInt32(valueCount))
            if v.inserted {
                let field = table.valueFields[Int(value)]
                if !table.values[Int(value)].isNaN, let stored = resumed?.value(field) {
                    valueRefs.set(value, to: stored)
                    v.value = stored
                } else {
                    valueCount += 1
                    added += field.count
                    if !measureOnly {
                        values.append(table.values[Int(value)])
                        valueFields.append(contentsOf: field)
                    }
                }
            }
            tags.append(k.value)
            tags.append(v.value)
        }
        var tagBytes = 0
        for t in tags { tagBytes += ProtobufWriter.varintSize(UInt64(t)) }
        var length = 2 + 1 + ProtobufWriter.varintSize(UInt64(g.count)) + g.count
        if let id { length += 1 + ProtobufWriter.varintSize(id) }
        if tagBytes > 0 { length += 1 + ProtobufWriter.varintSize(UInt64(tagBytes)) + tagBytes }
        let message = 1 + ProtobufWriter.varintSize(UInt64(length)) + length
        guard !measureOnly else { return added + message }
        features.tag(2, 2)
        features.varint(UInt64(length))
        if let id { features.varintField(1, id) }
        if tagBytes > 0 {
            features.tag(2, 2)
            features.varint(UInt64(tagBytes))
            for t in tags { features.varint(UInt64(t)) }
        }
        features.varintField(3, UInt64(type.rawValue))
        features.tag(4, 2)
        features.varint(UInt64(g.count))
        features.bytes.append(contentsOf: g)
        featureCount += 1
        return added + message
    }

    /// Adds (or sizes) a feature with string attributes, interned in the builder's own table.
    mutating func add(id: UInt64?, type: MVTGeometryType, packedGeometry g: UnsafeRawBufferPointer, properties: [(key: String, value: MVTValue)], measureOnly: Bool = false) -> Int {
        let refs = properties.map { AttributeRef(key: local.intern(key: $0.key), value: local.intern(value: $0.value)) }
        let table = local
        return refs.withUnsafeBytes { a in
            add(id: id, type: type, packedGeometry: g, attributes: a.baseAddress, count: refs.count, stride: MemoryLayout<AttributeRef>.stride, table: table, measureOnly: measureOnly)
        }
    }

    /// The state before a feature was added, to take it back (`rollback`).
    struct Snapshot {
        var features: Int, keys: Int, values: Int, keyFields: Int, valueFields: Int, featureCount: Int
    }

    var snapshot: Snapshot {
        Snapshot(features: features.bytes.count, keys: keys.count, values: values.count, keyFields: keyFields.count, valueFields: valueFields.count, featureCount: featureCount)
    }

    /// Takes back the features added since `s` (the `layer_size` boundary). Only `size` and
    /// `encoded()` are meaningful afterwards: the builder is finished.
    mutating func rollback(to s: Snapshot) {
        features.bytes.removeSubrange(s.features...)
        keys.removeSubrange(s.keys...)
        values.removeSubrange(s.values...)
        keyFields.removeSubrange(s.keyFields...)
        valueFields.removeSubrange(s.valueFields...)
        featureCount = s.featureCount
    }

    /// The encoded size of the layer message (without the tile's field key and length).
    public var size: Int {
        let n = name.utf8.count
        return 2 + 1 + ProtobufWriter.varintSize(UInt64(n)) + n + features.bytes.count + keyFields.count + valueFields.count
            + 1 + ProtobufWriter.varintSize(UInt64(extent))
    }

    /// The layer message: version, name, features, keys, values, extent (the order of the
    /// spec's worked examples). `omitDefaultExtent` leaves out `extent` when it is the proto2
    /// default 4096, which is how mvt-fixtures writes them; tiledrop's tiles always carry it.
    public func encoded(omitDefaultExtent: Bool = false) -> [UInt8] {
        var w = ProtobufWriter(capacity: size + 8)
        w.varintField(15, 2)
        w.stringField(1, name)
        w.bytes.append(contentsOf: features.bytes)
        w.bytes.append(contentsOf: keyFields)
        w.bytes.append(contentsOf: valueFields)
        if !(omitDefaultExtent && extent == 4096) { w.varintField(5, UInt64(extent)) }
        return w.bytes
    }
}

/// Assembles layers into a tile (`Tile` message: repeated `layers = 3`).
public enum MVTTileEncoder {
    public static func encode(_ layers: [MVTLayerBuilder], omitDefaultExtent: Bool = false) -> [UInt8] {
        var w = ProtobufWriter()
        for l in layers where l.featureCount > 0 || omitDefaultExtent {
            w.bytesField(3, l.encoded(omitDefaultExtent: omitDefaultExtent))
        }
        return w.bytes
    }

    /// Appends an already encoded layer message to a tile buffer.
    static func appendLayer(_ layer: [UInt8], to tile: inout [UInt8]) {
        var w = ProtobufWriter()
        w.bytesField(3, layer)
        tile.append(contentsOf: w.bytes)
    }
}

extension MVTLayerBuilder {
    /// The fewest bytes a feature can add to a layer: its message with every tag index one
    /// byte and no new keys or values. Sums of these bound a layer's size from below, which
    /// lets the tiler drop pieces of a dense tile that can never fit `layer_size`.
    static func minimumFeatureSize(id: UInt64?, tagCount: Int, geometryBytes g: Int) -> Int {
        var length = 2 + 1 + ProtobufWriter.varintSize(UInt64(g)) + g
        if let id { length += 1 + ProtobufWriter.varintSize(id) }
        if tagCount > 0 { length += 1 + ProtobufWriter.varintSize(UInt64(tagCount)) + tagCount }
        return 1 + ProtobufWriter.varintSize(UInt64(length)) + length
    }
}
