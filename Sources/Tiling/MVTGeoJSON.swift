import GeoModel

/// Converts a decoded tile back to GeoJSON (RFC 7946) in longitude/latitude, for
/// `tiledrop tile` and for tests that compare tiles with their sources.
///
/// Polygon rings are grouped by winding as MVT 2.1 §4.3.4.4 defines (a ring with positive
/// area in tile space starts a new polygon, negative ones are its holes) and closed again.
public enum MVTGeoJSON {
    /// A FeatureCollection of every feature of every layer; each feature carries its layer
    /// name in the foreign member `"layer"` (as tippecanoe-decode does).
    public static func featureCollection(_ tile: MVTTile, id: TileID) -> JSONValue {
        var features: [JSONValue] = []
        for layer in tile.layers {
            for f in layer.features {
                guard let g = geometry(f.decoded, extent: layer.extent, tile: id) else { continue }
                var props = JSONObject()
                for (k, v) in layer.properties(of: f) { props[k] = v.json }
                var o = JSONObject()
                o["type"] = "Feature"
                if let fid = f.id { o["id"] = fid <= UInt64(Int64.max) ? .int(Int64(fid)) : .double(Double(fid)) }
                o["layer"] = .string(layer.name)
                o["geometry"] = g
                o["properties"] = .object(props)
                features.append(.object(o))
            }
        }
        return ["type": "FeatureCollection", "features": .array(features)]
    }

    public static func geometry(_ d: MVTGeometry.Decoded, extent: UInt32, tile: TileID) -> JSONValue? {
        let n = Double(1 << tile.z), e = Double(extent)
        func pos(_ p: TilePoint) -> JSONValue {
            let w = WebMercator.unproject(x: (Double(tile.x) + Double(p.x) / e) / n, y: (Double(tile.y) + Double(p.y) / e) / n)
            return [.double(round7(w.lon)), .double(round7(w.lat))]
        }
        switch d.type {
        case .unknown: return nil
        case .point:
            let pts = d.parts.flatMap { $0 }.map(pos)
            return pts.count == 1 ? ["type": "Point", "coordinates": pts[0]] : ["type": "MultiPoint", "coordinates": .array(pts)]
        case .lineString:
            let lines: [JSONValue] = d.parts.map { .array($0.map(pos)) }
            return lines.count == 1 ? ["type": "LineString", "coordinates": lines[0]] : ["type": "MultiLineString", "coordinates": .array(lines)]
        case .polygon:
            var polys: [[JSONValue]] = []
            for ring in d.parts {
                let area = MVTGeometry.signedArea2(ring)
                guard area != 0 else { continue }
                let closed: JSONValue = .array((ring + [ring[0]]).map(pos))
                if area > 0 || polys.isEmpty { polys.append([closed]) } else { polys[polys.count - 1].append(closed) }
            }
            guard !polys.isEmpty else { return nil }
            return polys.count == 1 ? ["type": "Polygon", "coordinates": .array(polys[0])]
                : ["type": "MultiPolygon", "coordinates": .array(polys.map { .array($0) })]
        }
    }

    private static func round7(_ d: Double) -> Double { (d * 1e7).rounded() / 1e7 }
}
