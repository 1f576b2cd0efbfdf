import Carto
import GeoModel
import Rendering
import Storage
import Tiling

/// Cuts a layer group's tiles out of its tilesets' tiles: for each config layer, the
/// features of the source tile that the layer's `WHERE` selects, with their properties
/// projected to the selected columns, as one MVT layer named after the config layer.
///
/// Geometry is passed through as stored (already clipped, simplified and buffered by the
/// tiler), so a filtered tile costs a decode, a filter and an encode, never a re-tiling.
struct LayerGroupTiles {
    let files: TilesetFiles

    /// One selected feature, ready for an MVT layer or the renderer.
    struct Selected {
        var id: UInt64?
        var type: MVTGeometryType
        var geometry: [UInt32]
        var decoded: MVTGeometry.Decoded
        var properties: [(key: String, value: MVTValue)]
    }

    /// One output layer: its name, extent and selected features.
    struct Selection {
        var name: String
        var extent: UInt32
        var features: [Selected]
    }

    /// The selections of `indices` (mapnik layers shown at the tile's zoom) in tile `id`,
    /// in config order; layers without features are left out.
    func select(_ group: LayerGroup, indices: [Int], tile id: TileID) throws(CartoRequestError) -> [Selection] {
        var decoded: [String: MVTTile?] = [:]
        var result: [Selection] = []
        for i in indices {
            let layer = group.layers[i]
            guard let query = layer.query, let tileset = layer.tileset, layer.config.shows(zoom: id.z) else { continue }
            let source: MVTTile?
            if let hit = decoded[tileset] {
                source = hit
            } else {
                source = try read(tileset, id)
                decoded[tileset] = source
            }
            guard let source else { continue }
            let selection = Self.select(query, from: source, name: layer.name, zoom: id.z)
            if !selection.features.isEmpty { result.append(selection) }
        }
        return result
    }

    /// The decoded tile `id` of `tileset`; nil where the tileset has none.
    private func read(_ tileset: String, _ id: TileID) throws(CartoRequestError) -> MVTTile? {
        do {
            let stored = try files.with(tileset) { entry throws(StorageError) in try entry.reader.tile(id) }
            guard let bytes = stored ?? nil else { return nil }
            return try MVTTile(decoding: Gzip.isGzip(bytes) ? try Gzip.decompress(bytes) : bytes)
        } catch {
            throw CartoRequestError(status: 500, "tileset \(tileset) cannot be read at \(id): \(error)", type: "tile")
        }
    }

    /// The features of every layer of `tile` that `query` selects at zoom `z`, projected.
    static func select(_ query: LayerQuery, from tile: MVTTile, name: String, zoom z: Int) -> Selection {
        var out = Selection(name: name, extent: tile.layers.first?.extent ?? 4096, features: [])
        for layer in tile.layers where layer.extent == out.extent {
            for f in layer.features {
                var properties = JSONObject(capacity: f.tags.count / 2)
                var t = 0
                while t + 1 < f.tags.count {
                    properties.appendUnchecked(key: layer.keys[Int(f.tags[t])], value: layer.values[Int(f.tags[t + 1])].json)
                    t += 2
                }
                let id: JSONValue? = f.id.map { .int(Int64(bitPattern: $0)) }
                let context = ExpressionContext(properties: properties, id: id, geometryType: typeName(f.type), zoom: Double(z))
                guard query.selects(context) else { continue }
                let projected = query.project(properties, id: id)
                var kept: [(key: String, value: MVTValue)] = []
                kept.reserveCapacity(projected.count)
                for member in projected {
                    if let v = MVTValue(json: member.value) { kept.append((member.key, v)) }
                }
                out.features.append(Selected(id: f.id, type: f.type, geometry: f.geometry, decoded: f.decoded, properties: kept))
            }
        }
        return out
    }

    /// Mapbox GL's `geometry-type` names, which the compiled WHERE sees.
    static func typeName(_ type: MVTGeometryType) -> String {
        switch type {
        case .point: "Point"
        case .lineString: "LineString"
        case .polygon: "Polygon"
        case .unknown: "Unknown"
        }
    }

    /// The selections as an MVT tile (uncompressed).
    static func encode(_ selections: [Selection]) -> [UInt8] {
        var builders: [MVTLayerBuilder] = []
        for s in selections {
            var b = MVTLayerBuilder(name: s.name, extent: s.extent)
            for f in s.features { b.addFeature(id: f.id, type: f.type, geometry: f.geometry, properties: f.properties) }
            builders.append(b)
        }
        return MVTTileEncoder.encode(builders)
    }
}

extension LayerGroupTiles {
    /// The selections as a decoded tile for the renderer, without an encode/decode round trip.
    static func tile(_ selections: [Selection]) -> MVTTile {
        MVTTile(layers: selections.map { s in
            var keys: [String] = [], values: [MVTValue] = []
            var keyIndex: [String: UInt32] = [:], valueIndex: [MVTValue: UInt32] = [:]
            let features = s.features.map { f in
                var tags: [UInt32] = []
                tags.reserveCapacity(f.properties.count * 2)
                for (key, value) in f.properties {
                    let k = keyIndex[key] ?? { keys.append(key); keyIndex[key] = UInt32(keys.count - 1); return UInt32(keys.count - 1) }()
                    let v = valueIndex[value] ?? { values.append(value); valueIndex[value] = UInt32(values.count - 1); return UInt32(values.count - 1) }()
                    tags += [k, v]
                }
                return MVTTile.Feature(id: f.id, tags: tags, type: f.type, geometry: f.geometry, decoded: f.decoded)
            }
            return MVTTile.Layer(name: s.name, extent: s.extent, keys: keys, values: values, features: features)
        })
    }
}
