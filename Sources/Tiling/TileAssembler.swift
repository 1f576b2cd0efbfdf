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

    static func assemble(z: Int, key: UInt64, features all: [TileFeature], order: ArraySlice<Int>, layers: [Recipe.Layer], outputs: [FeatureOutput], table: AttributeTable, compressor: Gzip.Compressor) -> Result {
        var features = [[TileFeature]](repeating: [], count: layers.count)
        for i in order { features[Int(all[i].layer)].append(all[i]) }
        let id = TileID(z: z, x: Int(key >> 32), y: Int(key & 0xFFFF_FFFF))
        var tile: [UInt8] = []
        var infos: [LayerInfo?] = Array(repeating: nil, count: layers.count)
        for (li, layer) in layers.enumerated() where !features[li].isEmpty {
            let out = outputs
            var fs = features[li]
            if layer.order != nil {
                fs = fs.enumerated().sorted { a, b in
                    let x = out[Int(a.element.index)].order ?? .infinity, y = out[Int(b.element.index)].order ?? .infinity
                    return x != y ? x < y : a.offset < b.offset
                }.map(\.element)
            }
            if !layer.limits.isEmpty { fs = applyLimits(fs, layer.limits, out) }
            var builder = build(layer, fs[...], out, table)
            let cap = layer.layerSize * 1024
            var info = LayerInfo(size: builder.size, hash: 0)
            if builder.size > cap {
                info.requiredSize = builder.size
                var lo = 0, hi = fs.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if build(layer, fs[..<mid], out, table).size <= cap { lo = mid } else { hi = mid - 1 }
                }
                info.dropped = fs.count - lo
                fs = Array(fs[..<lo])
                builder = build(layer, fs[...], out, table)
                info.size = builder.size
            }
            var h = FNV1a()
            for f in fs {
                switch f.type {
                case .point: info.points += 1
                case .lineString: info.lines += 1
                case .polygon: info.polygons += 1
                case .unknown: break
                }
                h.add(f.type.rawValue)
                for c in f.commands { h.add(c) }
                let o = out[Int(f.index)]
                if let refs = o.attributes {
                    for a in refs {
                        for b in table.keyFields[Int(a.key)] { h.add(b) }
                        for b in table.valueFields[Int(a.value)] { h.add(b) }
                    }
                } else {
                    for (k, v) in o.properties {
                        h.add(k)
                        h.add(v)
                    }
                }
            }
            info.hash = h.value
            infos[li] = info
            if builder.featureCount > 0 { MVTTileEncoder.appendLayer(builder.encoded(), to: &tile) }
        }
        return Result(id: id, data: tile.isEmpty ? [] : compressor.compress(tile), layerInfo: infos, written: !tile.isEmpty)
    }

    private static func build(_ layer: Recipe.Layer, _ fs: ArraySlice<TileFeature>, _ out: [FeatureOutput], _ table: AttributeTable) -> MVTLayerBuilder {
        var b = MVTLayerBuilder(name: layer.name, extent: UInt32(layer.extent))
        for f in fs {
            let o = out[Int(f.index)]
            if let refs = o.attributes {
                b.addFeature(id: o.id, type: f.type, geometry: f.commands, attributes: refs, table: table)
            } else {
                b.addFeature(id: o.id, type: f.type, geometry: f.commands, properties: o.properties)
            }
        }
        return b
    }

    /// `tiles.limit`: for each rule keep only the `count` matching features with the lowest
    /// (or highest) attribute value; non-matching features are untouched.
    private static func applyLimits(_ fs: [TileFeature], _ limits: [Recipe.Limit], _ out: [FeatureOutput]) -> [TileFeature] {
        let keys = fs.map { out[Int($0.index)].limitKeys }
        var keep = [Bool](repeating: true, count: fs.count)
        for (ri, rule) in limits.enumerated() {
            let matching = fs.indices.filter { keep[$0] && keys[$0][ri] != nil }
            guard matching.count > rule.count else { continue }
            let ranked = matching.sorted { a, b in
                let x = keys[a][ri]!, y = keys[b][ri]!
                return x != y ? (rule.highest ? x > y : x < y) : a < b
            }
            for i in ranked[rule.count...] { keep[i] = false }
        }
        return fs.indices.filter { keep[$0] }.map { fs[$0] }
    }
}
