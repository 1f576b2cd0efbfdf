/// Keeps a pass's pieces within the memory budget when single tiles are denser than bands
/// can split (a z0 tile of ten million points): pieces that can never be in their tile's
/// layer once `layer_size` is applied are dropped while the zoom is still being cut.
///
/// For each tile and layer (layers with `tiles.limit` are left alone: a limit may remove
/// features ahead and make room), pieces are walked in the order the assembler will use
/// (`tiles.order`, then cut order) adding up `MVTLayerBuilder.minimumFeatureSize`. Once that
/// lower bound exceeds the cap, every later piece has more than `layer_size` of features
/// ahead of it, whatever arrives later (later pieces only go in between), so it can be
/// dropped: the tile's kept features and bytes are exactly what they would have been. Only
/// the size the capped layer would have needed (`capped_list`'s `layer_size`) becomes a lower
/// bound for such tiles; their dropped count stays exact.
extension ZoomPieces {
    /// What was trimmed from one tile's layer: pieces and their minimum bytes.
    struct Trimmed: Sendable {
        var count = 0
        var bytes = 0
    }

    /// Drops the pieces that cannot fit; returns false (and changes nothing) when that would
    /// free less than a quarter of them.
    mutating func trim(layers: [Recipe.Layer]) -> Bool {
        refs.sort()
        var keep = [Bool](repeating: true, count: refs.count)
        var dropped = 0
        var found: [(key: UInt64, layer: Int, trimmed: Trimmed)] = []
        var start = 0
        var group: [(index: Int, piece: PieceView)] = []
        while start < refs.count {
            let key = refs[start].key
            var end = start + 1
            while end < refs.count && refs[end].key == key { end += 1 }
            for (li, layer) in layers.enumerated() where layer.limits.isEmpty {
                group.removeAll(keepingCapacity: true)
                for i in start..<end {
                    let v = view(refs[i].location)
                    if v.layer == li { group.append((i, v)) }
                }
                let cap = layer.layerSize * 1024
                guard group.count > 1 else { continue }
                if layer.order != nil {
                    group = group.enumerated().sorted { a, b in
                        let x = a.element.piece.order ?? .infinity, y = b.element.piece.order ?? .infinity
                        return x != y ? x < y : a.offset < b.offset
                    }.map(\.element)
                }
                var sum = 0
                var t = Trimmed()
                for (i, p) in group {
                    if sum > cap {
                        keep[i] = false
                        t.count += 1
                        t.bytes += minimumSize(p, refs[i].location)
                    } else {
                        sum += minimumSize(p, refs[i].location)
                    }
                }
                if t.count > 0 {
                    found.append((key, li, t))
                    dropped += t.count
                }
            }
            start = end
        }
        guard dropped * 4 >= refs.count else { return false }
        var compact = ZoomPieces()
        compact.trimmed = trimmed
        for f in found {
            var t = compact.trimmed[f.key]?[f.layer] ?? Trimmed()
            t.count += f.trimmed.count
            t.bytes += f.trimmed.bytes
            compact.trimmed[f.key, default: [:]][f.layer] = t
        }
        var block = CutBlock(capacity: 1 << 20)
        for (i, r) in refs.enumerated() where keep[i] {
            let v = view(r.location)
            let length = TilePiece.length(v)
            if block.arena.count + length > 4 << 20 {
                compact.add(block)
                block = CutBlock(capacity: 1 << 20)
            }
            let offset = block.arena.count
            block.arena.append(bytes: UnsafeRawBufferPointer(start: v.p, count: length))
            if v.isDynamic {
                block.arena.store(UInt32(block.outputs.count), at: offset + 12)
                block.outputs.append(output(r.location, v))
            }
            block.keys.append(r.key)
            block.offsets.append(UInt32(offset))
        }
        compact.add(block)
        self = compact
        return true
    }

    private func minimumSize(_ p: PieceView, _ location: UInt64) -> Int {
        let tags = p.isDynamic ? output(location, p).properties.count * 2 : p.attributeCount * 2
        return MVTLayerBuilder.minimumFeatureSize(id: p.id, tagCount: tags, geometryBytes: p.geometryCount)
    }
}
