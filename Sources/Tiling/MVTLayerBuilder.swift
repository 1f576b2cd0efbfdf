/// Builds one MVT 2.1 layer: features are committed one at a time, keys and values deduplicated.
///
/// Modelled on vtzero's layer builder: the caller hands over a complete, already valid
/// feature (geometry encoded by `MVTGeometry`), so an invalid feature never reaches the
/// layer. `size` tracks the encoded layer size exactly, which the `layer_size` cap needs.
public struct MVTLayerBuilder: Sendable {
    public let name: String
    public let extent: UInt32
    public private(set) var keys: [String] = []
    public private(set) var values: [MVTValue] = []
    /// Interns attributes given as strings (the public path); the tiler passes its own table.
    private var local = AttributeTable()
    private var keyRefs = UInt32Map()
    private var valueRefs = UInt32Map()
    private var features = ProtobufWriter()
    private var keyFields: [UInt8] = []
    private var valueFields: [UInt8] = []
    public private(set) var featureCount = 0

    public init(name: String, extent: UInt32 = 4096) {
        self.name = name
        self.extent = extent
    }

    /// Adds a feature; `geometry` must be a non-empty command stream for `type`.
    public mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], properties: [(key: String, value: MVTValue)]) {
        let refs = properties.map { AttributeRef(key: local.intern(key: $0.key), value: local.intern(value: $0.value)) }
        addFeature(id: id, type: type, geometry: geometry, attributes: refs, table: local)
    }

    /// Adds a feature whose attributes are ids into `table` (the tiler's fast path).
    mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], attributes: [AttributeRef], table: AttributeTable) {
        var tags: [UInt32] = []
        tags.reserveCapacity(attributes.count * 2)
        for a in attributes {
            tags.append(keyRefs.value(for: a.key) {
                keys.append(table.keys[Int(a.key)])
                keyFields.append(contentsOf: table.keyFields[Int(a.key)])
                return UInt32(keys.count - 1)
            })
            tags.append(valueRefs.value(for: a.value) {
                values.append(table.values[Int(a.value)])
                valueFields.append(contentsOf: table.valueFields[Int(a.value)])
                return UInt32(values.count - 1)
            })
        }
        appendFeature(id: id, type: type, geometry: geometry, tags: tags)
    }

    private mutating func appendFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], tags: [UInt32]) {
        var f = ProtobufWriter(capacity: geometry.count * 2 + tags.count + 8)
        if let id { f.varintField(1, id) }
        f.packedField(2, tags)
        f.varintField(3, UInt64(type.rawValue))
        f.packedField(4, geometry)
        features.bytesField(2, f.bytes)
        featureCount += 1
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
