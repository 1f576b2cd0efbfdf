import Foundation
import GeoModel

/// The answer to instantiating a map, in the shape CARTO's Maps API gives it:
/// `layergroupid`, `last_updated` (and `updated_at`, as the seed's sample names it),
/// `metadata.layers[{type, id, meta}]`, `metadata.tilejson.{vector,raster}`,
/// `metadata.url.{vector,raster}.urlTemplate` and `cdn_url`.
struct LayerGroupAnswer {
    let group: LayerGroup
    /// `scheme://host[/user/{name}]/api/v1/map`.
    let base: String

    var json: JSONValue {
        let root = base + "/" + group.id
        var layers: [JSONValue] = []
        for layer in group.layers {
            var meta = JSONObject()
            meta["stats"] = .array([])
            if layer.config.kind == .mapnik {
                meta["cartocss"] = .string(layer.config.cartocss)
                meta["cartocss_version"] = .string(layer.config.cartocssVersion)
                if let tileset = layer.tileset { meta["source"] = .string(tileset) }
                if !layer.config.interactivity.isEmpty { meta["interactivity"] = .array(layer.config.interactivity.map(JSONValue.string)) }
            } else if let color = layer.config.color {
                meta["color"] = .string(color)
            }
            if !layer.warnings.isEmpty { meta["warnings"] = .array(layer.warnings.map(JSONValue.string)) }
            var l = JSONObject()
            l["type"] = .string(layer.config.kind.rawValue)
            l["id"] = .string(layer.name)
            l["meta"] = .object(meta)
            layers.append(.object(l))
        }
        var metadata = JSONObject()
        metadata["layers"] = .array(layers)
        metadata["dataviews"] = .object(JSONObject())
        metadata["analyses"] = .array([])
        var tilejson = JSONObject(), url = JSONObject()
        for (kind, ext) in [("vector", "mvt"), ("raster", "png")] {
            let template = root + "/{z}/{x}/{y}." + ext
            var t = JSONObject()
            t["tilejson"] = "2.2.0"
            t["tiles"] = .array([.string(template)])
            t["minzoom"] = .int(Int64(group.config.minzoom))
            t["maxzoom"] = .int(Int64(group.config.maxzoom))
            tilejson[kind] = .object(t)
            var u = JSONObject()
            u["urlTemplate"] = .string(template)
            u["subdomains"] = .array([])
            url[kind] = .object(u)
        }
        metadata["tilejson"] = .object(tilejson)
        metadata["url"] = .object(url)
        var o = JSONObject()
        o["layergroupid"] = .string(group.id)
        o["last_updated"] = .string(group.lastUpdatedISO)
        o["updated_at"] = .string(group.lastUpdatedISO)
        o["metadata"] = .object(metadata)
        o["cdn_url"] = .object(cdn)
        return .object(o)
    }

    /// `cdn_url`: tiledrop is its own CDN, so both point at the host that answered.
    private var cdn: JSONObject {
        let host = URL(string: base)?.host.map { h in URL(string: base)?.port.map { "\(h):\($0)" } ?? h } ?? "localhost"
        var c = JSONObject()
        c["http"] = .string(host)
        c["https"] = .string(host)
        var templates = JSONObject()
        for scheme in ["http", "https"] {
            var t = JSONObject()
            t["subdomains"] = .array([])
            t["url"] = .string(scheme + "://" + host)
            templates[scheme] = .object(t)
        }
        c["templates"] = .object(templates)
        return c
    }
}
