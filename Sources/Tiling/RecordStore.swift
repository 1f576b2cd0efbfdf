import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Where a layer's loaded features live: in memory, or spilled to a temporary file when the
/// source is big, so memory does not grow with the source.
///
/// The spill file holds each `FeatureRecord` in a compact binary form (length-prefixed,
/// little-endian: geometry as float64 pairs, the interned attribute ids, id, order, limit
/// keys; the source properties as JSON only for layers whose expressions need them per zoom).
/// It is created with `mkstemp` and unlinked at once, so nothing is left behind even on a
/// crash; every zoom level (and band) streams through it again in chunks.
final class RecordStore: @unchecked Sendable {
    private var memory: [FeatureRecord] = []
    private var file: UnsafeMutablePointer<FILE>?
    private let spillThreshold: Int
    private(set) var count = 0
    var isSpilled: Bool { file != nil }

    init(spillThreshold: Int) { self.spillThreshold = spillThreshold }

    deinit { if let file { fclose(file) } }

    func append(_ r: FeatureRecord) throws(TilingError) {
        count += 1
        if file == nil {
            memory.append(r)
            guard memory.count > spillThreshold else { return }
            try openSpill()
            for m in memory { try write(m) }
            memory = []
        } else {
            try write(r)
        }
    }

    private func openSpill() throws(TilingError) {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(dir)/tiledrop-spill-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw .source(name: dir, message: "cannot create a spill file in \(dir) (errno \(errno)); set TMPDIR to a writable directory") }
        unlink(String(cString: template))
        guard let f = fdopen(fd, "w+b") else {
            close(fd)
            throw .source(name: dir, message: "fdopen of the spill file failed (errno \(errno))")
        }
        file = f
    }

    private func write(_ r: FeatureRecord) throws(TilingError) {
        var w = SpillWriter()
        w.record(r)
        var length = UInt32(w.bytes.count).littleEndian
        let ok = withUnsafeBytes(of: &length) { fwrite($0.baseAddress, 1, 4, file) == 4 } && w.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) == $0.count }
        guard ok else { throw .source(name: "spill file", message: "write failed (errno \(errno)); is the temporary directory full?") }
    }

    /// Calls `body` with consecutive chunks of records (at most `size` each) in load order.
    func forEachChunk(size: Int, _ body: ([FeatureRecord]) throws -> Void) throws {
        guard let file else {
            var start = 0
            while start < memory.count {
                try body(Array(memory[start..<min(memory.count, start + size)]))
                start += size
            }
            return
        }
        fflush(file)
        rewind(file)
        var chunk: [FeatureRecord] = []
        chunk.reserveCapacity(size)
        var header = [UInt8](repeating: 0, count: 4)
        var buffer: [UInt8] = []
        while fread(&header, 1, 4, file) == 4 {
            let n = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
            if buffer.count < n { buffer = [UInt8](repeating: 0, count: n) }
            guard fread(&buffer, 1, n, file) == n else { throw TilingError.source(name: "spill file", message: "truncated record") }
            var r = SpillReader(bytes: buffer, end: n)
            guard let record = r.record() else { throw TilingError.source(name: "spill file", message: "corrupt record") }
            chunk.append(record)
            if chunk.count == size {
                try body(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { try body(chunk) }
        fseek(file, 0, SEEK_END)
    }
}

/// Little-endian encoder for spilled records.
struct SpillWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func points(_ ps: [WorldPoint]) {
        u32(UInt32(ps.count))
        for p in ps { f64(p.x); f64(p.y) }
    }
    mutating func json(_ v: JSONValue?) {
        guard let v else { return u32(UInt32.max) }
        var w = JSONWriter()
        w.write(v)
        u32(UInt32(w.bytes.count))
        bytes += w.bytes
    }

    mutating func record(_ r: FeatureRecord) {
        switch r.geometry {
        case .points(let ps): u8(1); points(ps)
        case .lines(let ls): u8(2); u32(UInt32(ls.count)); ls.forEach { points($0) }
        case .polygons(let polys):
            u8(3)
            u32(UInt32(polys.count))
            for rings in polys { u32(UInt32(rings.count)); rings.forEach { points($0) } }
        }
        json(r.sourceID)
        json(r.properties.map { .object($0) })
        guard let o = r.staticOutput else { return u8(0) }
        u8(1 | (o.kept ? 2 : 0) | (o.id != nil ? 4 : 0) | (o.order != nil ? 8 : 0))
        u64(o.id ?? 0)
        f64(o.order ?? 0)
        let attrs = o.attributes ?? []
        u32(UInt32(attrs.count))
        for a in attrs { u32(a.key); u32(a.value) }
        u32(UInt32(o.limitKeys.count))
        for k in o.limitKeys { u8(k == nil ? 0 : 1); f64(k ?? 0) }
    }
}

/// Decoder matching `SpillWriter`; nil on malformed input.
struct SpillReader {
    let bytes: [UInt8]
    let end: Int
    var pos = 0

    init(bytes: [UInt8], end: Int) {
        self.bytes = bytes
        self.end = end
    }

    mutating func u8() -> UInt8? {
        guard pos < end else { return nil }
        pos += 1
        return bytes[pos - 1]
    }
    mutating func u32() -> UInt32? {
        guard pos + 4 <= end else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[pos + i]) << (8 * UInt32(i)) }
        pos += 4
        return v
    }
    mutating func u64() -> UInt64? {
        guard pos + 8 <= end else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return v
    }
    mutating func f64() -> Double? { u64().map { Double(bitPattern: $0) } }
    mutating func points() -> [WorldPoint]? {
        guard let n = u32(), Int(n) * 16 <= end - pos else { return nil }
        var out: [WorldPoint] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let x = f64(), let y = f64() else { return nil }
            out.append(WorldPoint(x: x, y: y))
        }
        return out
    }
    mutating func json() -> JSONValue?? {
        guard let n = u32() else { return nil }
        if n == UInt32.max { return .some(nil) }
        guard Int(n) <= end - pos else { return nil }
        let slice = Array(bytes[pos..<(pos + Int(n))])
        pos += Int(n)
        guard let v = try? JSONParser.parse(slice) else { return nil }
        return .some(v)
    }
    mutating func list<T>(_ element: (inout SpillReader) -> T?) -> [T]? {
        guard let n = u32(), Int(n) <= end - pos else { return nil }
        var out: [T] = []
        for _ in 0..<n {
            guard let e = element(&self) else { return nil }
            out.append(e)
        }
        return out
    }

    mutating func record() -> FeatureRecord? {
        let geometry: ProjectedGeometry
        switch u8() {
        case 1?: guard let ps = points() else { return nil }; geometry = .points(ps)
        case 2?: guard let ls = list({ $0.points() }) else { return nil }; geometry = .lines(ls)
        case 3?: guard let ps = list({ r in r.list { $0.points() } }) else { return nil }; geometry = .polygons(ps)
        default: return nil
        }
        guard var r = FeatureRecord(geometry: geometry), let id = json(), let props = json(), let flags = u8() else { return nil }
        r.sourceID = id
        r.properties = props?.objectValue
        guard flags & 1 != 0 else { return r }
        guard let fid = u64(), let order = f64(),
              let attrs = list({ r -> AttributeRef? in
                  guard let k = r.u32(), let v = r.u32() else { return nil }
                  return AttributeRef(key: k, value: v)
              }),
              let limitKeys = list({ r -> Double?? in
                  guard let has = r.u8(), let v = r.f64() else { return nil }
                  return .some(has == 1 ? v : nil)
              }) else { return nil }
        r.staticOutput = FeatureOutput(kept: flags & 2 != 0, id: flags & 4 != 0 ? fid : nil, properties: [], attributes: attrs,
                                       order: flags & 8 != 0 ? order : nil, limitKeys: limitKeys)
        return r
    }
}
