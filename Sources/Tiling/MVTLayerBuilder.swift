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
    private var keyIndex: [String: UInt32] = [:]
    private var valueIndex: [MVTValue: UInt32] = [:]
    private var features = ProtobufWriter()
    private var keysSize = 0
    private var valuesSize = 0
    public private(set) var featureCount = 0

    public init(name: String, extent: UInt32 = 4096) {
        self.name = name
        self.extent = extent
    }

    /// Adds a feature; `geometry` must be a non-empty command stream for `type`.
    public mutating func addFeature(id: UInt64?, type: MVTGeometryType, geometry: [UInt32], properties: [(key: String, value: MVTValue)]) {
        var tags: [UInt32] = []
        tags.reserveCapacity(properties.count * 2)
        for (k, v) in properties {
            tags.append(index(key: k))
            tags.append(index(value: v))
        }
        var f = ProtobufWriter(capacity: geometry.count * 2 + tags.count + 8)
        if let id { f.varintField(1, id) }
        f.packedField(2, tags)
        f.varintField(3, UInt64(type.rawValue))
        f.packedField(4, geometry)
        features.bytesField(2, f.bytes)
        featureCount += 1
    }

    private mutating func index(key: String) -> UInt32 {
        if let i = keyIndex[key] { return i }
        let i = UInt32(keys.count)
        keys.append(key)
        keyIndex[key] = i
        let n = key.utf8.count
        keysSize += 1 + ProtobufWriter.varintSize(UInt64(n)) + n
        return i
    }

    private mutating func index(value: MVTValue) -> UInt32 {
        if let i = valueIndex[value] { return i }
        let i = UInt32(values.count)
        values.append(value)
        valueIndex[value] = i
        var w = ProtobufWriter()
        value.encode(into: &w)
        valuesSize += 1 + ProtobufWriter.varintSize(UInt64(w.bytes.count)) + w.bytes.count
        return i
    }

    /// The encoded size of the layer message (without the tile's field key and length).
    public var size: Int {
        let n = name.utf8.count
        return 2 + 1 + ProtobufWriter.varintSize(UInt64(n)) + n + features.bytes.count + keysSize + valuesSize
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
        for k in keys { w.stringField(3, k) }
        for v in values {
            var vw = ProtobufWriter()
            v.encode(into: &vw)
            w.bytesField(4, vw.bytes)
        }
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
