import GeoModel

/// Builds one finished tile from the features cut into it: applies `tiles.order`,
/// `tiles.limit` and the `layer_size` cap per layer, encodes the MVT and gzips it.
enum TileAssembler {
    struct LayerInfo: Sendable {
        var size: Int
        var points = 0, lines = 0, polygons = 0
        var hash: UInt64
        /// Set when the layer was capped: the size all features would have needed.
        var requiredSize: Int?
        var dropped = 0
    }

    struct Result: Sendable {
        var id: TileID
        var data: [UInt8]
        var layerInfo: [LayerInfo?]
        var written: Bool
    }

    /// Assembles the tile `key` from its pieces (`refs`, in cut order) in `pieces`.
    static func assemble(z: Int, key: UInt64, refs: ArraySlice<PieceRef>, pieces: ZoomPieces, layers: [Recipe.Layer], table: AttributeTable,
                         compressor: Gzip.Compressor) -> Result {
        var features = [[(piece: PieceView, location: UInt64)]](repeating: [], count: layers.count)
        for r in refs {
            let v = pieces.view(r.location)
            features[v.layer].append((v, r.location))
        }
        let id = TileID(z: z, x: Int(key >> 32), y: Int(key & 0xFFFF_FFFF))
        var tile: [UInt8] = []
        var infos: [LayerInfo?] = Array(repeating: nil, count: layers.count)
        for (li, layer) in layers.enumerated() where !features[li].isEmpty {
            var fs = features[li]
            if layer.order != nil {
                fs = fs.enumerated().sorted { a, b in
                    let x = a.element.piece.order ?? .infinity, y = b.element.piece.order ?? .infinity
                    return x != y ? x < y : a.offset < b.offset
                }.map(\.element)
            }
            if !layer.limits.isEmpty { fs = applyLimits(fs, layer.limits) }
            // layer_size: add in order until the layer would exceed the cap, take the last
            // feature back, and only size (not encode) the rest for the report.
            var builder = MVTLayerBuilder(name: layer.name, extent: UInt32(layer.extent))
            let cap = layer.layerSize * 1024
            var kept = fs.count
            var required: Int?
            for i in fs.indices {
                let before = builder.snapshot
                add(fs[i], to: &builder, pieces, table, measureOnly: false)
                guard builder.size > cap else { continue }
                var full = builder.size
                for j in (i + 1)..<fs.count { full += add(fs[j], to: &builder, pieces, table, measureOnly: true) }
                builder.rollback(to: before)
                (kept, required) = (i, full)
                break
            }
            var info = LayerInfo(size: builder.size, hash: 0, requiredSize: required, dropped: fs.count - kept)
            if let t = pieces.trimmed[key]?[li] {
                // Pieces dropped while cutting (`ZoomPieces.trim`) count as dropped; the size
                // they would have needed is known only as a lower bound.
                info.dropped += t.count
                info.requiredSize = (required ?? builder.size) + t.bytes
            }
            var h = FNV1a()
            for (f, location) in fs[..<kept] {
                switch f.type {
                case .point: info.points += 1
                case .lineString: info.lines += 1
                case .polygon: info.polygons += 1
                case .unknown: break
                }
                hash((f, location), into: &h, pieces: pieces, table: table)
            }
            info.hash = h.value
            infos[li] = info
            if builder.featureCount > 0 { MVTTileEncoder.appendLayer(builder.encoded(), to: &tile) }
        }
        return Result(id: id, data: tile.isEmpty ? [] : compressor.compress(tile), layerInfo: infos, written: !tile.isEmpty)
    }

    /// Adds a kept feature to a tile layer's checksum: type, commands, then its attributes.
    static func hash(_ f: (piece: PieceView, location: UInt64), into h: inout FNV1a, pieces: ZoomPieces, table: AttributeTable) {
        let p = f.piece
        h.add(p.type.rawValue)
        p.forEachCommand { h.add($0) }
        if p.isDynamic {
            for (k, v) in pieces.output(f.location, p).properties {
                h.add(k)
                h.add(v)
            }
        } else {
            for i in 0..<p.attributeCount {
                let a = p.attribute(i)
                for b in table.keyFields[Int(a.key)] { h.add(b) }
                for b in table.valueFields[Int(a.value)] { h.add(b) }
            }
        }
    }

    @discardableResult
    private static func add(_ f: (piece: PieceView, location: UInt64), to b: inout MVTLayerBuilder, _ pieces: ZoomPieces, _ table: AttributeTable, measureOnly: Bool) -> Int {
        let p = f.piece
        if p.isDynamic {
            return b.add(id: p.id, type: p.type, packedGeometry: p.packedGeometry, properties: pieces.output(f.location, p).properties, measureOnly: measureOnly)
        }
        return b.add(id: p.id, type: p.type, packedGeometry: p.packedGeometry, attributes: p.attributes, count: p.attributeCount, stride: 8, table: table, measureOnly: measureOnly)
    }

    /// `tiles.limit`: for each rule keep only the `count` matching features with the lowest
    /// (or highest) attribute value; non-matching features are untouched.
    private static func applyLimits(_ fs: [(piece: PieceView, location: UInt64)], _ limits: [Recipe.Limit]) -> [(piece: PieceView, location: UInt64)] {
        var keep = [Bool](repeating: true, count: fs.count)
        for (ri, rule) in limits.enumerated() {
            let matching = fs.indices.filter { keep[$0] && fs[$0].piece.limitKey(ri) != nil }
            guard matching.count > rule.count else { continue }
            let ranked = matching.sorted { a, b in
                let x = fs[a].piece.limitKey(ri)!, y = fs[b].piece.limitKey(ri)!
                return x != y ? (rule.highest ? x > y : x < y) : a < b
            }
            for i in ranked[rule.count...] { keep[i] = false }
        }
        return fs.indices.filter { keep[$0] }.map { fs[$0] }
    }
}
