import Carto
import Foundation
import GeoModel
import Rendering
import SystemSupport
import Tiling

/// An instantiated layer group ready to serve: its MapConfig with every layer's SQL
/// compiled to a `LayerQuery` over a tileset, and the style its CartoCSS describes.
///
/// A layer group is a view, not a copy: tiles are cut from the tilesets' current files at
/// request time. Its id is `hash:revision`, the hash taken over the normalised config and
/// the identity of every tileset file it reads, so the same config over the same data gets
/// the same id and a republished tileset gives a new one.
final class LayerGroup: Sendable {
    /// One config layer, compiled.
    struct Layer: Sendable {
        let index: Int
        /// The MVT layer name: the config's `id` or `layer{index}`.
        let name: String
        let config: MapConfig.Layer
        /// The compiled SQL; nil for a `plain` layer.
        let query: LayerQuery?
        /// The tileset file name the query reads; nil for a `plain` layer.
        let tileset: String?
        /// Problems that do not stop the layer (unsupported CartoCSS properties), for `meta`.
        let warnings: [String]
    }

    let id: String
    let config: MapConfig
    let layers: [Layer]
    /// How the PNG tiles are drawn: one `LayerStyle` per MVT layer name.
    let style: StyleSheet
    /// Newest modification time of the tilesets read, in epoch milliseconds (`last_updated`).
    let lastUpdated: Int64

    private init(id: String, config: MapConfig, layers: [Layer], style: StyleSheet, lastUpdated: Int64) {
        self.id = id
        self.config = config
        self.layers = layers
        self.style = style
        self.lastUpdated = lastUpdated
    }

    /// Compiles `config`: each layer's SQL (its `FROM` name resolved by `resolve` to a
    /// tileset) and CartoCSS. `tilesetPath` gives a tileset's file, whose identity goes into
    /// the id; a stored group passes its `id` instead.
    static func compile(_ config: MapConfig, id storedID: String? = nil, resolve: (String) throws -> String?,
                        tilesetPath: (String) -> String) throws(CartoRequestError) -> LayerGroup {
        var layers: [Layer] = []
        var identities: [String: FileStatus] = [:]
        var styles: [(name: String, style: CartoStyle)] = []
        let fs = FileSystem()
        for (i, l) in config.layers.enumerated() {
            guard l.kind == .mapnik else {
                layers.append(Layer(index: i, name: l.name(index: i), config: l, query: nil, tileset: nil, warnings: []))
                continue
            }
            let query: LayerQuery
            do {
                query = try LayerQuery.parse(l.sql)
            } catch {
                throw .invalid("Layer \(i): \(error.description)", layer: i)
            }
            let tileset: String?
            do { tileset = try resolve(query.source) } catch {
                throw CartoRequestError(status: 500, "Layer \(i): cannot look up \"\(query.source)\": \(error)", layer: i)
            }
            guard let tileset, let status = try? fs.status(tilesetPath(tileset)), status.kind == .regular else {
                throw .invalid("Layer \(i): relation \"\(query.source)\" does not exist (name a published tileset or a map)", layer: i)
            }
            identities[tileset] = status
            let css: CartoStyle
            do { css = try CartoStyle.parse(l.cartocss) } catch {
                throw .invalid("Layer \(i): CartoCSS \(error.description)", layer: i)
            }
            styles.append((l.name(index: i), css))
            layers.append(Layer(index: i, name: l.name(index: i), config: l, query: query, tileset: tileset, warnings: css.warnings))
        }
        let newest = identities.values.map(\.modified).max() ?? 0
        let lastUpdated = newest / 1_000_000
        var hash = SHA256()
        hash.update(Array(JSONWriter.string(config.json).utf8))
        for name in identities.keys.sorted() {
            let s = identities[name]!
            hash.update(Array("\n\(name)\t\(s.device):\(s.inode):\(s.size):\(s.modified)".utf8))
        }
        let id = storedID ?? String(hash.finalize().prefix(32)) + ":" + String(lastUpdated)
        return LayerGroup(id: id, config: config, layers: layers, style: CartoStyle.styleSheet(styles), lastUpdated: lastUpdated)
    }

    /// Whether zoom `z` is inside the config's `minzoom`…`maxzoom` (outside is a 404).
    func covers(zoom z: Int) -> Bool { z >= config.minzoom && z <= config.maxzoom }

    /// `last_updated` as CARTO writes it: ISO 8601 UTC with milliseconds.
    var lastUpdatedISO: String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(lastUpdated) / 1000))
    }
}
