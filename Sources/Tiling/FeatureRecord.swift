import GeoModel

/// A source feature's geometry projected to normalised Web Mercator, split by MVT type.
enum ProjectedGeometry: Sendable {
    case points([WorldPoint])
    case lines([[WorldPoint]])
    case polygons([[[WorldPoint]]])

    var type: MVTGeometryType {
        switch self {
        case .points: .point
        case .lines: .lineString
        case .polygons: .polygon
        }
    }

    var typeName: String {
        switch self {
        case .points: "Point"
        case .lines: "LineString"
        case .polygons: "Polygon"
        }
    }
}

/// What the recipe makes of one feature at one zoom: whether it is kept, its id, output
/// attributes, order key and the values the `limit` rules rank by.
///
/// A class (immutable, shared) because every tile a feature lands in refers to it: copying
/// a struct of arrays there cost more retain/release traffic than the tiling itself.
final class FeatureOutput: Sendable {
    let kept: Bool
    let id: UInt64?
    let properties: [(key: String, value: MVTValue)]
    /// The attributes as ids into the run's `AttributeTable` (static outputs only).
    let attributes: [AttributeRef]?
    let order: Double?
    let limitKeys: [Double?]

    init(kept: Bool, id: UInt64?, properties: [(key: String, value: MVTValue)], attributes: [AttributeRef]? = nil,
         order: Double?, limitKeys: [Double?]) {
        self.kept = kept
        self.id = id
        self.properties = properties
        self.attributes = attributes
        self.order = order
        self.limitKeys = limitKeys
    }

    /// The same output with its attributes interned (and the string form dropped).
    func interned(_ attributes: [AttributeRef]) -> FeatureOutput {
        FeatureOutput(kept: kept, id: id, properties: [], attributes: attributes, order: order, limitKeys: limitKeys)
    }
}

/// One tileable feature as bytes in a `ByteArena`: projected geometry plus either a
/// precomputed output (when no recipe expression depends on the zoom) or the source
/// properties to evaluate per zoom.
///
/// Layout (native byte order, unaligned): `u32` total length, `u8` kind (1 points,
/// 2 lines, 3 polygons), `u8` flags (`Flag`), `u16` attribute count, `u16` limit-key count,
/// `u16` zero; the box as four `f64` (left out for a single point, which is its own box);
/// the output's `u64` id and `f64` order when present, limit keys as `u8` present + `f64`,
/// attributes as `u32` key and value ids into the run's `AttributeTable`; the source id and
/// properties as `u32` length + `BinaryJSON` when the layer needs them per zoom; then the geometry:
/// a single point as two `f64`, else counts (`u32`) and `f64` pairs (points; lines; polygons
/// of rings). No per-record allocation: a batch of records is one arena.
enum FeatureRecord {
    enum Flag {
        static let staticOutput: UInt8 = 1, kept: UInt8 = 2, id: UInt8 = 4, order: UInt8 = 8
        static let sourceID: UInt8 = 16, properties: UInt8 = 32, singlePoint: UInt8 = 64
    }

    static let headerSize = 12
    /// The most attributes one record holds (its count is a `u16`).
    static let maxAttributes = Int(UInt16.max)

    /// Appends a record; false (nothing written) when the geometry is empty.
    @discardableResult
    static func append(to arena: ByteArena, geometry: ProjectedGeometry, output: FeatureOutput?, attributes: [AttributeRef],
                       sourceID: JSONValue?, properties: JSONObject?) -> Bool {
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        func add(_ p: WorldPoint) {
            minX = min(minX, p.x); maxX = max(maxX, p.x)
            minY = min(minY, p.y); maxY = max(maxY, p.y)
        }
        var single = false
        switch geometry {
        case .points(let ps): ps.forEach(add); single = ps.count == 1
        case .lines(let ls): for l in ls { l.forEach(add) }
        case .polygons(let polys): for poly in polys { poly.first?.forEach(add) }
        }
        guard minX <= maxX else { return false }
        let start = arena.count
        var flags: UInt8 = single ? Flag.singlePoint : 0
        if let o = output {
            flags |= Flag.staticOutput | (o.kept ? Flag.kept : 0) | (o.id != nil ? Flag.id : 0) | (o.order != nil ? Flag.order : 0)
        }
        let json = [sourceID, properties.map { .object($0) }]
        if json[0] != nil { flags |= Flag.sourceID }
        if json[1] != nil { flags |= Flag.properties }
        let kind: UInt8
        switch geometry {
        case .points: kind = 1
        case .lines: kind = 2
        case .polygons: kind = 3
        }
        arena.append(UInt32(0))
        arena.append(kind)
        arena.append(flags)
        arena.append(UInt16(output == nil ? 0 : attributes.count))
        arena.append(UInt16(output?.limitKeys.count ?? 0))
        arena.append(UInt16(0))
        if !single { arena.append(minX); arena.append(minY); arena.append(maxX); arena.append(maxY) }
        if let o = output {
            if let id = o.id { arena.append(id) }
            if let order = o.order { arena.append(order) }
            for k in o.limitKeys { arena.append(UInt8(k == nil ? 0 : 1)); arena.append(k ?? 0) }
            for a in attributes { arena.append(a.key); arena.append(a.value) }
        }
        for value in json {
            guard let value else { continue }
            let at = arena.count
            arena.append(UInt32(0))
            BinaryJSON.write(value, to: arena)
            arena.store(UInt32(arena.count - at - 4), at: at)
        }
        func points(_ ps: [WorldPoint]) {
            arena.append(UInt32(ps.count))
            for p in ps { arena.append(p.x); arena.append(p.y) }
        }
        switch geometry {
        case .points(let ps) where single: arena.append(ps[0].x); arena.append(ps[0].y)
        case .points(let ps): points(ps)
        case .lines(let ls): arena.append(UInt32(ls.count)); ls.forEach(points)
        case .polygons(let polys):
            arena.append(UInt32(polys.count))
            for rings in polys { arena.append(UInt32(rings.count)); rings.forEach(points) }
        }
        arena.store(UInt32(arena.count - start), at: start)
        return true
    }

    /// Projects a GeoJSON geometry, grouping its parts by MVT type (a GeometryCollection may
    /// yield up to three records). Invalid positions make the caller skip the feature.
    static func project(_ g: Geometry) -> (points: [WorldPoint], lines: [[WorldPoint]], polygons: [[[WorldPoint]]], valid: Bool) {
        var points: [WorldPoint] = [], lines: [[WorldPoint]] = [], polygons: [[[WorldPoint]]] = []
        var valid = true
        func p(_ pos: Position) -> WorldPoint {
            if !pos.lon.isFinite || !pos.lat.isFinite || abs(pos.lon) > 360 || abs(pos.lat) > 90 { valid = false }
            let (x, y) = WebMercator.project(lon: pos.lon, lat: pos.lat)
            return WorldPoint(x: x, y: y)
        }
        func ring(_ r: [Position]) -> [WorldPoint] { r.map(p) }
        func walk(_ g: Geometry) {
            switch g {
            case .point(let pos): points.append(p(pos))
            case .multiPoint(let ps): points += ps.map(p)
            case .lineString(let ps): if ps.count >= 2 { lines.append(ring(ps)) }
            case .multiLineString(let ls): for l in ls where l.count >= 2 { lines.append(ring(l)) }
            case .polygon(let rs): if let first = rs.first, first.count >= 4 { polygons.append(rs.filter { $0.count >= 4 }.map(ring)) }
            case .multiPolygon(let ps): for rs in ps { if let first = rs.first, first.count >= 4 { polygons.append(rs.filter { $0.count >= 4 }.map(ring)) } }
            case .geometryCollection(let gs): gs.forEach(walk)
            }
        }
        walk(g)
        return (points, lines, polygons, valid)
    }
}

/// Reads one record written by `FeatureRecord.append` (valid while its arena lives).
struct RecordView {
    let p: UnsafeRawPointer
    let flags: UInt8
    let kind: UInt8
    let attributeCount: Int
    let limitCount: Int
    /// Offsets of the output (id, order, limit keys, attributes), the JSON and the geometry.
    private let outputOffset: Int
    let attributesOffset: Int
    private let jsonOffset: Int
    private let geometryOffset: Int

    init(_ p: UnsafeRawPointer) {
        self.p = p
        kind = p.load(fromByteOffset: 4, as: UInt8.self)
        flags = p.load(fromByteOffset: 5, as: UInt8.self)
        attributeCount = Int(p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        limitCount = Int(p.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        outputOffset = FeatureRecord.headerSize + (flags & FeatureRecord.Flag.singlePoint != 0 ? 0 : 32)
        attributesOffset = outputOffset + (flags & FeatureRecord.Flag.id != 0 ? 8 : 0) + (flags & FeatureRecord.Flag.order != 0 ? 8 : 0) + limitCount * 9
        jsonOffset = attributesOffset + attributeCount * 8
        var g = jsonOffset
        if flags & FeatureRecord.Flag.sourceID != 0 { g += 4 + Int(p.loadUnaligned(fromByteOffset: g, as: UInt32.self)) }
        if flags & FeatureRecord.Flag.properties != 0 { g += 4 + Int(p.loadUnaligned(fromByteOffset: g, as: UInt32.self)) }
        geometryOffset = g
    }

    var length: Int { Int(p.loadUnaligned(as: UInt32.self)) }
    var isSinglePoint: Bool { flags & FeatureRecord.Flag.singlePoint != 0 }
    var hasStaticOutput: Bool { flags & FeatureRecord.Flag.staticOutput != 0 }
    var type: MVTGeometryType { kind == 1 ? .point : kind == 2 ? .lineString : .polygon }
    var typeName: String { kind == 1 ? "Point" : kind == 2 ? "LineString" : "Polygon" }

    /// The single point (`isSinglePoint` only).
    var point: WorldPoint {
        WorldPoint(x: p.loadUnaligned(fromByteOffset: geometryOffset, as: Double.self), y: p.loadUnaligned(fromByteOffset: geometryOffset + 8, as: Double.self))
    }

    /// minX, minY, maxX, maxY of the geometry (outer rings for polygons).
    var box: (minX: Double, minY: Double, maxX: Double, maxY: Double) {
        if isSinglePoint { let q = point; return (q.x, q.y, q.x, q.y) }
        return (p.loadUnaligned(fromByteOffset: 12, as: Double.self), p.loadUnaligned(fromByteOffset: 20, as: Double.self),
                p.loadUnaligned(fromByteOffset: 28, as: Double.self), p.loadUnaligned(fromByteOffset: 36, as: Double.self))
    }

    var id: UInt64? { flags & FeatureRecord.Flag.id != 0 ? p.loadUnaligned(fromByteOffset: outputOffset, as: UInt64.self) : nil }
    var order: Double? {
        flags & FeatureRecord.Flag.order != 0 ? p.loadUnaligned(fromByteOffset: outputOffset + (flags & FeatureRecord.Flag.id != 0 ? 8 : 0), as: Double.self) : nil
    }
    /// Where the limit keys start (each `u8` present + `f64`).
    var limitsOffset: Int { attributesOffset - limitCount * 9 }
    /// The byte range of the output that a tile piece copies: id, order, limit keys, attributes.
    var outputBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: p + outputOffset, count: jsonOffset - outputOffset) }

    private func json(_ flag: UInt8, skipping: Bool) -> JSONValue? {
        guard flags & flag != 0 else { return nil }
        var o = jsonOffset
        if skipping { o += 4 + Int(p.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        o += 4
        return BinaryJSON.read(p, &o)
    }

    var sourceID: JSONValue? { json(FeatureRecord.Flag.sourceID, skipping: false) }
    var properties: JSONObject? { json(FeatureRecord.Flag.properties, skipping: flags & FeatureRecord.Flag.sourceID != 0)?.objectValue }

    /// The geometry as arrays (for lines, polygons and multipoints, which the cutter clips).
    func geometry() -> ProjectedGeometry {
        var o = geometryOffset
        func u32() -> Int { defer { o += 4 }; return Int(p.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func points() -> [WorldPoint] {
            let n = u32()
            var out: [WorldPoint] = []
            out.reserveCapacity(n)
            for _ in 0..<n {
                out.append(WorldPoint(x: p.loadUnaligned(fromByteOffset: o, as: Double.self), y: p.loadUnaligned(fromByteOffset: o + 8, as: Double.self)))
                o += 16
            }
            return out
        }
        switch kind {
        case 1: return isSinglePoint ? .points([point]) : .points(points())
        case 2: return .lines((0..<u32()).map { _ in points() })
        default: return .polygons((0..<u32()).map { _ in (0..<u32()).map { _ in points() } })
        }
    }

    /// Number of vertices (for memory estimates).
    var vertexCount: Int {
        if isSinglePoint { return 1 }
        return (length - geometryOffset) / 16
    }
}