import GeoModel

/// One directory entry (spec §4.1): a run of tiles sharing one blob, or (run length 0) a leaf
/// directory whose first TileID is `tileID`.
public struct PMTilesEntry: Sendable, Equatable {
    public var tileID: UInt64
    /// Relative to the tile data section (tiles) or the leaf directories section (leaves).
    public var offset: UInt64
    public var length: UInt32
    public var runLength: UInt32

    public init(tileID: UInt64, offset: UInt64, length: UInt32, runLength: UInt32) {
        self.tileID = tileID
        self.offset = offset
        self.length = length
        self.runLength = runLength
    }
}

/// Encodes and decodes directories (spec §4.2–4.3): entry count, delta TileIDs, run lengths,
/// lengths, then offsets (0 = "right after the previous entry", else offset + 1), all varints.
///
/// Decoding checks everything a hostile file could get wrong: varints longer than 10 bytes
/// or past the end, entry counts larger than the bytes could hold, TileIDs that are not
/// ascending or overflow, zero lengths, lengths beyond 32 bits.
public enum PMTilesDirectory {
    /// The uncompressed directory bytes for `entries` (ascending TileIDs).
    public static func encode(_ entries: ArraySlice<PMTilesEntry>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 6 + 8)
        appendVarint(UInt64(entries.count), to: &out)
        var last: UInt64 = 0
        for e in entries {
            appendVarint(e.tileID - last, to: &out)
            last = e.tileID
        }
        for e in entries { appendVarint(UInt64(e.runLength), to: &out) }
        for e in entries { appendVarint(UInt64(e.length), to: &out) }
        var previous: PMTilesEntry?
        for e in entries {
            if let p = previous, e.offset == p.offset + UInt64(p.length) {
                out.append(0)
            } else {
                appendVarint(e.offset + 1, to: &out)
            }
            previous = e
        }
        return out
    }

    /// Decodes uncompressed directory bytes; the error string says what is wrong.
    public static func decode(_ bytes: [UInt8]) -> Result<[PMTilesEntry], DecodeError> {
        var reader = VarintReader(bytes: bytes)
        do throws(DecodeError) {
            let count = try reader.next()
            // Every entry takes at least four bytes (one per varint): bound before allocating.
            guard count > 0, count <= UInt64(bytes.count / 4) else {
                throw DecodeError("directory claims \(count) entries but has \(bytes.count) bytes (at least 1 entry and 4 bytes per entry needed)")
            }
            var entries = [PMTilesEntry](repeating: PMTilesEntry(tileID: 0, offset: 0, length: 0, runLength: 0), count: Int(count))
            var id: UInt64 = 0
            for i in entries.indices {
                let delta = try reader.next()
                if i > 0 && delta == 0 { throw DecodeError("TileIDs are not ascending at entry \(i)") }
                let (sum, overflow) = id.addingReportingOverflow(delta)
                guard !overflow else { throw DecodeError("TileID overflows 64 bits at entry \(i)") }
                id = sum
                entries[i].tileID = id
            }
            for i in entries.indices {
                let run = try reader.next()
                guard run <= UInt64(UInt32.max) else { throw DecodeError("run length \(run) at entry \(i) is larger than 32 bits") }
                guard entries[i].tileID.addingReportingOverflow(run).overflow == false else { throw DecodeError("run at entry \(i) overflows the TileID range") }
                entries[i].runLength = UInt32(run)
            }
            for i in entries.indices {
                let length = try reader.next()
                guard length > 0, length <= UInt64(UInt32.max) else { throw DecodeError("length \(length) at entry \(i) must be 1 to 2^32-1 (§4.1)") }
                entries[i].length = UInt32(length)
            }
            for i in entries.indices {
                let raw = try reader.next()
                if raw == 0 {
                    guard i > 0 else { throw DecodeError("the first entry's offset is encoded as 0 (\"after the previous entry\"), but there is none") }
                    entries[i].offset = entries[i - 1].offset + UInt64(entries[i - 1].length)
                } else {
                    entries[i].offset = raw - 1
                }
                guard entries[i].offset < UInt64(1) << 62 else { throw DecodeError("offset \(entries[i].offset) at entry \(i) is beyond any file") }
            }
            guard reader.atEnd else { throw DecodeError("\(bytes.count - reader.position) bytes left over after \(count) entries") }
            return .success(entries)
        } catch {
            return .failure(error)
        }
    }

    /// What is wrong with a directory's bytes.
    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The entry covering `tileID` in ascending `entries`: a tile run containing it, or the
    /// leaf directory (run length 0) that may contain it (spec Appendix A.3).
    static func find(_ tileID: UInt64, in entries: [PMTilesEntry]) -> PMTilesEntry? {
        var low = 0
        var high = entries.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if entries[mid].tileID < tileID { low = mid + 1 } else if entries[mid].tileID > tileID { high = mid - 1 } else { return entries[mid] }
        }
        guard high >= 0 else { return nil }
        let e = entries[high]
        if e.runLength == 0 || tileID - e.tileID < UInt64(e.runLength) { return e }
        return nil
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Reads protobuf-style varints, refusing to run past the end or beyond 64 bits.
    struct VarintReader {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func next() throws(DecodeError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < bytes.count else { throw DecodeError("directory ends inside a varint at byte \(position)") }
                let b = bytes[position]
                position += 1
                guard shift < 64, shift < 63 || b <= 1 else { throw DecodeError("varint longer than 64 bits at byte \(position - 1)") }
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
        }
    }
}

extension TileID {
    /// The PMTiles v3 TileID (spec §4.1): tiles of all lower zooms first, then the position
    /// along zoom `z`'s Hilbert curve. 0/0/0 → 0, 1/0/0 → 1, 1/0/1 → 2, 1/1/1 → 3, 1/1/0 → 4.
    public var hilbertID: UInt64 {
        var id = TileID.firstHilbertID(zoom: z)
        var x = UInt64(self.x)
        var y = UInt64(self.y)
        var level = z - 1
        while level >= 0 {
            let s = UInt64(1) << UInt64(level)
            let rx: UInt64 = x & s != 0 ? 1 : 0
            let ry: UInt64 = y & s != 0 ? 1 : 0
            id += ((3 * rx) ^ ry) << (2 * UInt64(level))
            (x, y) = TileID.rotate(s, x & (s - 1), y & (s - 1), rx, ry)
            level -= 1
        }
        return id
    }

    /// The tile of a PMTiles TileID; nil beyond zoom 31 (where IDs no longer fit 64 bits).
    public init?(hilbertID: UInt64) {
        var z = 0
        while z < 31 && TileID.firstHilbertID(zoom: z + 1) <= hilbertID { z += 1 }
        guard z < 31 || hilbertID < TileID.firstHilbertID(zoom: 31) + (UInt64(1) << 62) else { return nil }
        var position = hilbertID - TileID.firstHilbertID(zoom: z)
        var x: UInt64 = 0
        var y: UInt64 = 0
        var s: UInt64 = 1
        for _ in 0..<z {
            let rx = (position >> 1) & 1
            let ry = (position ^ rx) & 1
            (x, y) = TileID.rotate(s, x, y, rx, ry)
            x += s * rx
            y += s * ry
            position >>= 2
            s <<= 1
        }
        self.init(z: z, x: Int(x), y: Int(y))
    }

    /// Number of tiles in all zooms below `zoom`: (4^zoom − 1) / 3.
    public static func firstHilbertID(zoom: Int) -> UInt64 {
        ((UInt64(1) << (2 * UInt64(zoom))) &- 1) / 3
    }

    private static func rotate(_ s: UInt64, _ x: UInt64, _ y: UInt64, _ rx: UInt64, _ ry: UInt64) -> (UInt64, UInt64) {
        guard ry == 0 else { return (x, y) }
        return rx == 1 ? (s - 1 - y, s - 1 - x) : (y, x)
    }
}
