import GeoModel

/// One entry of an MVT layer's `values` table (`vector_tile.proto` message `Value`).
///
/// MVT 2.1 §4.1: exactly one of the typed fields is set. Keeping the proto type (not just
/// "a number") lets the decoder round-trip tiles exactly and the encoder dedupe values.
public enum MVTValue: Sendable, Hashable {
    case string(String)
    case float(Float)
    case double(Double)
    case int(Int64)
    case uint(UInt64)
    case sint(Int64)
    case bool(Bool)

    /// A float or double NaN: never equal to itself, so tables never share it.
    var isNaN: Bool {
        switch self {
        case .float(let f): f.isNaN
        case .double(let d): d.isNaN
        default: false
        }
    }

    /// The value a GeoJSON property becomes in a tile, or nil for `null` (which MVT cannot hold).
    ///
    /// Non-negative integers use `uint`, negative ones `sint` (the compact zig-zag form), other
    /// numbers `double`; arrays and objects are written as their compact JSON text, as tippecanoe does.
    public init?(json: JSONValue) {
        switch json {
        case .null: return nil
        case .bool(let b): self = .bool(b)
        case .int(let i): self = i >= 0 ? .uint(UInt64(i)) : .sint(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array, .object: self = .string(JSONWriter.string(json))
        }
    }

    /// The value as GeoJSON property.
    public var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .float(let f): .double(Double(f))
        case .double(let d): .double(d)
        case .int(let i), .sint(let i): .int(i)
        case .uint(let u): u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .bool(let b): .bool(b)
        }
    }

    /// The MBTiles `vector_layers` field type (MBTiles 1.3 "Vector tileset metadata").
    var fieldType: String {
        switch self {
        case .string: "String"
        case .bool: "Boolean"
        default: "Number"
        }
    }

    func encode(into w: inout ProtobufWriter) {
        switch self {
        case .string(let s): w.stringField(1, s)
        case .float(let f): w.fixed32Field(2, f.bitPattern)
        case .double(let d): w.fixed64Field(3, d.bitPattern)
        case .int(let i): w.varintField(4, UInt64(bitPattern: i))
        case .uint(let u): w.varintField(5, u)
        case .sint(let i): w.varintField(6, UInt64(bitPattern: (i << 1) ^ (i >> 63)))
        case .bool(let b): w.varintField(7, b ? 1 : 0)
        }
    }

    /// Decodes one `Value` message; exactly one known field must be present.
    static func decode(_ r: inout ProtobufReader) throws(TilingError) -> MVTValue {
        var value: MVTValue?
        while !r.atEnd {
            let (field, wire) = try r.key()
            let v: MVTValue
            switch (field, wire) {
            case (1, 2):
                let range = try r.lengthDelimited()
                guard let s = String(validating: r.bytes[range], as: UTF8.self) else { throw .invalidTile("string value is not valid UTF-8") }
                v = .string(s)
            case (2, 5): v = .float(Float(bitPattern: try r.fixed32()))
            case (3, 1): v = .double(Double(bitPattern: try r.fixed64()))
            case (4, 0): v = .int(Int64(bitPattern: try r.varint()))
            case (5, 0): v = .uint(try r.varint())
            case (6, 0):
                let z = try r.varint()
                v = .sint(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
            case (7, 0): v = .bool(try r.varint() != 0)
            case (1...7, _): throw .invalidTile("value field \(field) has wire type \(wire), which does not match vector_tile.proto")
            default: throw .invalidTile("value has unknown field \(field); MVT 2.1 values have exactly one of fields 1-7")
            }
            guard value == nil else { throw .invalidTile("value has more than one typed field") }
            value = v
        }
        guard let value else { throw .invalidTile("value message has no typed field") }
        return value
    }
}
