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
    }

    static func assemble(z: Int, key: UInt64, features: [[TileFeature]], layers: [Recipe.Layer]) -> Result {
        let id = TileID(z: z, x: Int(key >> 32), y: Int(key & 0xFFFF_FFFF))
        var tile: [UInt8] = []
        var infos: [LayerInfo?] = Array(repeating: nil, count: layers.count)
        for (li, layer) in layers.enumerated() where !features[li].isEmpty {
            var fs = features[li]
            if layer.order != nil {
                fs = fs.enumerated().sorted { a, b in
                    let x = a.element.output.order ?? .infinity, y = b.element.output.order ?? .infinity
                    return x != y ? x < y : a.offset < b.offset
                }.map(\.element)
            }
            if !layer.limits.isEmpty { fs = applyLimits(fs, layer.limits) }
            var builder = build(layer, fs[...])
            let cap = layer.layerSize * 1024
            var info = LayerInfo(size: builder.size, hash: 0)
            if builder.size > cap {
                info.requiredSize = builder.size
                var lo = 0, hi = fs.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if build(layer, fs[..<mid]).size <= cap { lo = mid } else { hi = mid - 1 }
                }
                info.dropped = fs.count - lo
                fs = Array(fs[..<lo])
                builder = build(layer, fs[...])
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
                for (k, v) in f.output.properties {
                    h.add(k)
                    h.add(String(describing: v))
                }
            }
            info.hash = h.value
            infos[li] = info
            if builder.featureCount > 0 { MVTTileEncoder.appendLayer(builder.encoded(), to: &tile) }
        }
        return Result(id: id, data: tile.isEmpty ? [] : Gzip.compress(tile), layerInfo: infos)
    }

    private static func build(_ layer: Recipe.Layer, _ fs: ArraySlice<TileFeature>) -> MVTLayerBuilder {
        var b = MVTLayerBuilder(name: layer.name, extent: UInt32(layer.extent))
        for f in fs { b.addFeature(id: f.output.id, type: f.type, geometry: f.commands, properties: f.output.properties) }
        return b
    }

    /// `tiles.limit`: for each rule keep only the `count` matching features with the lowest
    /// (or highest) attribute value; non-matching features are untouched.
    private static func applyLimits(_ fs: [TileFeature], _ limits: [Recipe.Limit]) -> [TileFeature] {
        var keep = [Bool](repeating: true, count: fs.count)
        for (ri, rule) in limits.enumerated() {
            let matching = fs.indices.filter { keep[$0] && fs[$0].output.limitKeys[ri] != nil }
            guard matching.count > rule.count else { continue }
            let ranked = matching.sorted { a, b in
                let x = fs[a].output.limitKeys[ri]!, y = fs[b].output.limitKeys[ri]!
                return x != y ? (rule.highest ? x > y : x < y) : a < b
            }
            for i in ranked[rule.count...] { keep[i] = false }
        }
        return fs.indices.filter { keep[$0] }.map { fs[$0] }
    }
}
