/// One feature's geometry in one tile, as bytes in a `ByteArena`.
///
/// Layout (native byte order, unaligned): `u16` layer, `u8` MVT type, `u8` flags
/// (`FeatureRecord.Flag.id`/`order`, `dynamic`), `u16` attribute count, `u16` limit-key
/// count, `u32` geometry byte count, `u32` index of the feature's `FeatureOutput` in its
/// block (dynamic layers only); then the output as the record stores it (`u64` id, `f64`
/// order, limit keys as `u8` + `f64`, attributes as `u32` pairs) and the geometry as packed
/// protobuf varints, exactly as the layer builder writes them.
enum TilePiece {
    static let headerSize = 16
    static let dynamic: UInt8 = 128

    /// Appends a piece of a record with a precomputed output (copied from the record).
    @inline(__always)
    static func append(to a: ByteArena, layer: Int, record r: RecordView, commands: UnsafeBufferPointer<UInt32>) {
        let output = r.outputBytes
        let start = a.count
        a.reserve(headerSize + output.count + commands.count * 5)
        a.append(UInt16(layer))
        a.append(UInt8(r.type.rawValue))
        a.append(r.flags & (FeatureRecord.Flag.id | FeatureRecord.Flag.order))
        a.append(UInt16(r.attributeCount))
        a.append(UInt16(r.limitCount))
        a.append(UInt32(0))
        a.append(UInt32(0))
        a.append(bytes: output)
        let g = a.count
        for c in commands { a.appendVarint(c) }
        a.store(UInt32(a.count - g), at: start + 8)
    }

    /// Appends a piece of a feature evaluated at this zoom (`outputs[index]` in its block).
    static func append(to a: ByteArena, layer: Int, type: MVTGeometryType, output o: FeatureOutput, index: Int, commands: UnsafeBufferPointer<UInt32>) {
        let start = a.count
        a.append(UInt16(layer))
        a.append(UInt8(type.rawValue))
        a.append(dynamic | (o.id != nil ? FeatureRecord.Flag.id : 0) | (o.order != nil ? FeatureRecord.Flag.order : 0))
        a.append(UInt16(0))
        a.append(UInt16(o.limitKeys.count))
        a.append(UInt32(0))
        a.append(UInt32(index))
        if let id = o.id { a.append(id) }
        if let order = o.order { a.append(order) }
        for k in o.limitKeys { a.append(UInt8(k == nil ? 0 : 1)); a.append(k ?? 0) }
        let g = a.count
        for c in commands { a.appendVarint(c) }
        a.store(UInt32(a.count - g), at: start + 8)
    }

    /// The bytes a piece takes in its arena.
    static func length(_ v: PieceView) -> Int { v.geometryOffset + v.geometryCount }
}

/// Reads a piece written by `TilePiece`.
struct PieceView {
    let p: UnsafeRawPointer

    var layer: Int { Int(p.loadUnaligned(as: UInt16.self)) }
    var type: MVTGeometryType { MVTGeometryType(rawValue: UInt32(p.load(fromByteOffset: 2, as: UInt8.self))) ?? .unknown }
    var flags: UInt8 { p.load(fromByteOffset: 3, as: UInt8.self) }
    var isDynamic: Bool { flags & TilePiece.dynamic != 0 }
    var attributeCount: Int { Int(p.loadUnaligned(fromByteOffset: 4, as: UInt16.self)) }
    var limitCount: Int { Int(p.loadUnaligned(fromByteOffset: 6, as: UInt16.self)) }
    var geometryCount: Int { Int(p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
    var outputIndex: Int { Int(p.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) }

    private var hasID: Bool { flags & FeatureRecord.Flag.id != 0 }
    private var orderOffset: Int { TilePiece.headerSize + (hasID ? 8 : 0) }
    private var limitsOffset: Int { orderOffset + (flags & FeatureRecord.Flag.order != 0 ? 8 : 0) }
    private var attributesOffset: Int { limitsOffset + limitCount * 9 }
    var geometryOffset: Int { attributesOffset + attributeCount * 8 }

    var id: UInt64? { hasID ? p.loadUnaligned(fromByteOffset: TilePiece.headerSize, as: UInt64.self) : nil }
    var order: Double? { flags & FeatureRecord.Flag.order != 0 ? p.loadUnaligned(fromByteOffset: orderOffset, as: Double.self) : nil }

    func limitKey(_ i: Int) -> Double? {
        let o = limitsOffset + i * 9
        return p.load(fromByteOffset: o, as: UInt8.self) == 0 ? nil : p.loadUnaligned(fromByteOffset: o + 1, as: Double.self)
    }

    /// `(key id, value id)` pairs, 8 bytes apart.
    var attributes: UnsafeRawPointer { p + attributesOffset }
    func attribute(_ i: Int) -> AttributeRef {
        AttributeRef(key: p.loadUnaligned(fromByteOffset: attributesOffset + i * 8, as: UInt32.self),
                     value: p.loadUnaligned(fromByteOffset: attributesOffset + i * 8 + 4, as: UInt32.self))
    }

    var packedGeometry: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: p + geometryOffset, count: geometryCount) }

    /// The geometry commands, decoded from the packed varints (for checksums).
    func forEachCommand(_ body: (UInt32) -> Void) {
        let g = packedGeometry
        var v: UInt32 = 0, shift: UInt32 = 0
        for b in g {
            v |= UInt32(b & 0x7F) << shift
            if b < 0x80 {
                body(v)
                v = 0
                shift = 0
            } else {
                shift += 7
            }
        }
    }
}

/// The pieces one worker cut from one block of records: their bytes, tile keys, offsets
/// and (dynamic layers) the outputs evaluated at this zoom.
struct CutBlock: @unchecked Sendable {
    var arena: ByteArena
    var keys: [UInt64] = []
    var offsets: [UInt32] = []
    var outputs: [FeatureOutput] = []

    init(capacity: Int) { arena = ByteArena(capacity: capacity) }
}

/// A piece's place in a pass: its tile key, then block and offset packed so that sorting
/// by (key, location) keeps cut order within a tile.
struct PieceRef: Comparable {
    var key: UInt64
    var location: UInt64

    static func < (a: PieceRef, b: PieceRef) -> Bool { a.key != b.key ? a.key < b.key : a.location < b.location }
}

/// Every piece of one zoom level (or band of columns), sorted by tile.
struct ZoomPieces: @unchecked Sendable {
    var blocks: [CutBlock] = []
    var refs: [PieceRef] = []
    /// Each tile's key and range in `refs`.
    var tiles: [(key: UInt64, range: Range<Int>)] = []
    /// Pieces dropped by `trim` while cutting, per tile key and layer index.
    var trimmed: [UInt64: [Int: Trimmed]] = [:]

    @inline(__always) func view(_ location: UInt64) -> PieceView {
        PieceView(p: UnsafeRawPointer(blocks[Int(location >> 32)].arena.base + Int(location & 0xFFFF_FFFF)))
    }

    func output(_ location: UInt64, _ piece: PieceView) -> FeatureOutput {
        blocks[Int(location >> 32)].outputs[piece.outputIndex]
    }

    /// Bytes held: arenas and the reference array.
    var footprint: Int { blocks.reduce(refs.capacity * MemoryLayout<PieceRef>.stride) { $0 + $1.arena.footprint + $1.keys.capacity * 12 } }

    /// Adds a block's pieces, then (once all are in) `sort()`.
    mutating func add(_ b: CutBlock) {
        let index = UInt64(blocks.count) << 32
        for i in b.keys.indices { refs.append(PieceRef(key: b.keys[i], location: index | UInt64(b.offsets[i]))) }
        var b = b
        b.keys = []
        b.offsets = []
        blocks.append(b)
    }

    mutating func sort() {
        refs.sort()
        tiles = []
        var start = 0
        while start < refs.count {
            let key = refs[start].key
            var end = start + 1
            while end < refs.count && refs[end].key == key { end += 1 }
            tiles.append((key, start..<end))
            start = end
        }
    }
}
