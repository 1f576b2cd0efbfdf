import GeoModel

/// A decoded MVT 2.1 tile, with every rule of the spec checked.
///
/// Fatal violations (wrong wire types, missing layer name or version, tags pointing to
/// missing keys or values, malformed command streams) throw `TilingError.invalidTile`, as
/// mvt-fixtures recommends for "fatal" errors. Recoverable ones (a feature without type or
/// geometry, an odd tag count, a degenerate line, a duplicate layer name) drop the feature
/// or layer and are listed in `issues`.
public struct MVTTile: Sendable {
    public struct Feature: Sendable {
        public var id: UInt64?
        public var tags: [UInt32]
        public var type: MVTGeometryType
        public var geometry: [UInt32]
        public var decoded: MVTGeometry.Decoded

        public init(id: UInt64?, tags: [UInt32], type: MVTGeometryType, geometry: [UInt32], decoded: MVTGeometry.Decoded) {
            self.id = id
            self.tags = tags
            self.type = type
            self.geometry = geometry
            self.decoded = decoded
        }
    }

    public struct Layer: Sendable {
        public var version: UInt32
        public var name: String
        public var extent: UInt32
        public var keys: [String]
        public var values: [MVTValue]
        public var features: [Feature]

        /// The feature's properties in tag order.
        public func properties(of f: Feature) -> [(key: String, value: MVTValue)] {
            stride(from: 0, to: f.tags.count - 1, by: 2).map { (keys[Int(f.tags[$0])], values[Int(f.tags[$0 + 1])]) }
        }
    }

    public var layers: [Layer]
    /// Recoverable problems found while decoding (what was dropped and why).
    public var issues: [String]

    /// Decodes `bytes`. With `limitCoordinates` (the default, for tiles from outside) a
    /// coordinate more than `MVTGeometry.coordinateReach` extents outside the tile is fatal:
    /// the spec sets no bound, but such a tile is corrupt or built to overflow the 32-bit
    /// arithmetic of renderers and clients. Pass false to decode it anyway (wrapping at Int32).
    public init(decoding bytes: [UInt8], limitCoordinates: Bool = true) throws(TilingError) {
        var r = ProtobufReader(bytes)
        layers = []
        issues = []
        while !r.atEnd {
            let (field, wire) = try r.key()
            if field == 3 {
                guard wire == 2 else { throw .invalidTile("tile field 3 (layers) has wire type \(wire)") }
                let range = try r.lengthDelimited()
                var lr = ProtobufReader(bytes, from: range.lowerBound, to: range.upperBound)
                let layer = try MVTTile.decodeLayer(&lr, limitCoordinates: limitCoordinates, issues: &issues)
                if layers.contains(where: { $0.name == layer.name }) {
                    issues.append("layer \"\(layer.name)\" appears twice; the second one was skipped (MVT 2.1 §4.1)")
                } else {
                    layers.append(layer)
                }
            } else {
                try r.skip(wireType: wire)
            }
        }
    }

    private struct RawFeature {
        var id: UInt64?
        var tags: [UInt32] = []
        var type: UInt64?
        var geometry: [UInt32]?
        var geometryCount = 0
    }

    private static func decodeLayer(_ r: inout ProtobufReader, limitCoordinates: Bool, issues: inout [String]) throws(TilingError) -> Layer {
        var version: UInt64?
        var name: String?
        var extent: UInt64 = 4096
        var keys: [String] = []
        var values: [MVTValue] = []
        var raws: [RawFeature] = []
        while !r.atEnd {
            let (field, wire) = try r.key()
            switch (field, wire) {
            case (15, 0): version = try r.varint()
            case (1, 2):
                let range = try r.lengthDelimited()
                guard let s = String(validating: r.bytes[range], as: UTF8.self) else { throw .invalidTile("layer name is not valid UTF-8") }
                name = s
            case (2, 2):
                let range = try r.lengthDelimited()
                var fr = ProtobufReader(r.bytes, from: range.lowerBound, to: range.upperBound)
                raws.append(try decodeFeature(&fr))
            case (3, 2):
                let range = try r.lengthDelimited()
                guard let s = String(validating: r.bytes[range], as: UTF8.self) else { throw .invalidTile("layer key is not valid UTF-8") }
                keys.append(s)
            case (4, 2):
                let range = try r.lengthDelimited()
                var vr = ProtobufReader(r.bytes, from: range.lowerBound, to: range.upperBound)
                values.append(try MVTValue.decode(&vr))
            case (5, 0): extent = try r.varint()
            case (15, _), (1...5, _): throw .invalidTile("layer field \(field) has wire type \(wire), which does not match vector_tile.proto")
            default: try r.skip(wireType: wire)
            }
        }
        guard let name, !name.isEmpty else { throw .invalidTile("a layer has no name (MVT 2.1 §4.1: a layer MUST contain a name)") }
        guard let version else { throw .invalidTile("layer \"\(name)\" has no version") }
        guard version == 1 || version == 2 else { throw .invalidTile("layer \"\(name)\" has version \(version); only 1 and 2 exist") }
        guard extent > 0, extent <= UInt64(UInt32.max) else { throw .invalidTile("layer \"\(name)\" has invalid extent \(extent)") }
        var features: [Feature] = []
        for (n, raw) in raws.enumerated() {
            guard raw.tags.count % 2 == 0 else {
                issues.append("layer \"\(name)\" feature \(n): odd number of tags; feature skipped")
                continue
            }
            for i in stride(from: 0, to: raw.tags.count, by: 2) {
                guard Int(raw.tags[i]) < keys.count else { throw .invalidTile("layer \"\(name)\" feature \(n): tag refers to key \(raw.tags[i]) but the layer has \(keys.count) keys") }
                guard Int(raw.tags[i + 1]) < values.count else { throw .invalidTile("layer \"\(name)\" feature \(n): tag refers to value \(raw.tags[i + 1]) but the layer has \(values.count) values") }
            }
            // A missing type is proto2's default UNKNOWN (mvt-fixtures 016 is valid; 003, the
            // same bytes, is "recoverable"): the feature is kept but its geometry not interpreted.
            let rawType = raw.type ?? 0
            guard let type = MVTGeometryType(rawValue: UInt32(truncatingIfNeeded: rawType)), rawType <= 3 else {
                issues.append("layer \"\(name)\" feature \(n): invalid geometry type \(rawType); feature skipped")
                continue
            }
            guard raw.geometryCount == 1, let geometry = raw.geometry else {
                issues.append("layer \"\(name)\" feature \(n): \(raw.geometryCount == 0 ? "no" : "more than one") geometry field; feature skipped")
                continue
            }
            let decoded = type == .unknown ? MVTGeometry.Decoded(type: .unknown, parts: []) : try MVTGeometry.decode(geometry, type: type, limit: limitCoordinates ? MVTGeometry.coordinateLimit(extent: UInt32(extent)) : nil)
            if type == .lineString || type == .polygon, decoded.parts.contains(where: { part in zip(part, part.dropFirst()).contains { $0 == $1 } }) {
                issues.append("layer \"\(name)\" feature \(n): a LineTo has a zero-length segment (MVT 2.1 §4.3.3.2); feature skipped")
                continue
            }
            features.append(Feature(id: raw.id, tags: raw.tags, type: type, geometry: geometry, decoded: decoded))
        }
        return Layer(version: UInt32(version), name: name, extent: UInt32(extent), keys: keys, values: values, features: features)
    }

    private static func decodeFeature(_ r: inout ProtobufReader) throws(TilingError) -> RawFeature {
        var f = RawFeature()
        while !r.atEnd {
            let (field, wire) = try r.key()
            switch (field, wire) {
            case (1, 0): f.id = try r.varint()
            case (2, 2): f.tags += try r.packedUInt32()
            case (3, 0): f.type = try r.varint()
            case (4, 2):
                f.geometry = try r.packedUInt32()
                f.geometryCount += 1
            case (1...4, _): throw .invalidTile("feature field \(field) has wire type \(wire), which does not match vector_tile.proto")
            default: try r.skip(wireType: wire)
            }
        }
        return f
    }
}

extension MVTTile {
    /// A tile assembled in memory (a filtered view of decoded tiles, say), for the renderer.
    public init(layers: [Layer]) {
        self.layers = layers
        issues = []
    }
}

extension MVTTile.Layer {
    /// A version 2 layer; every feature's tags must index into `keys` and `values`.
    public init(name: String, extent: UInt32, keys: [String], values: [MVTValue], features: [MVTTile.Feature]) {
        version = 2
        self.name = name
        self.extent = extent
        self.keys = keys
        self.values = values
        self.features = features
    }
}
