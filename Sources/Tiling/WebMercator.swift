import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Spherical Web Mercator (EPSG:3857) in normalised world coordinates: x and y in 0…1,
/// y growing southwards, as tile pyramids address the world (OSM slippy-map convention).
public enum WebMercator {
    /// Latitude limit of the square world (atan(sinh(π))).
    public static let maxLatitude = 85.0511287798066

    /// Projects a position; latitudes beyond the Mercator limit are clamped to it.
    @inline(__always)
    public static func project(lon: Double, lat: Double) -> (x: Double, y: Double) {
        let x = lon / 360 + 0.5
        let clamped = max(-maxLatitude, min(maxLatitude, lat))
        let s = sin(clamped * .pi / 180)
        let y = 0.5 - 0.25 * log((1 + s) / (1 - s)) / .pi
        return (x, min(1, max(0, y)))
    }

    /// Inverse of `project`.
    public static func unproject(x: Double, y: Double) -> Position {
        let lon = (x - 0.5) * 360
        let lat = atan(sinh(.pi * (1 - 2 * y))) * 180 / .pi
        return Position(lon: lon, lat: lat)
    }

    /// The longitude/latitude box of a tile.
    public static func bounds(of tile: TileID) -> BoundingBox {
        let n = Double(1 << tile.z)
        let nw = unproject(x: Double(tile.x) / n, y: Double(tile.y) / n)
        let se = unproject(x: Double(tile.x + 1) / n, y: Double(tile.y + 1) / n)
        return BoundingBox(west: nw.lon, south: se.lat, east: se.lon, north: nw.lat)
    }

    /// The area of a tile on the sphere in km² (MTS `sum_area` adds these up).
    ///
    /// Uses the mean Earth radius 6371.0088 km (IUGG): area = R² · Δλ · (sin φn − sin φs).
    public static func areaKm2(of tile: TileID) -> Double {
        let b = bounds(of: tile)
        let r = 6371.0088
        return r * r * (b.east - b.west) * .pi / 180 * (sin(b.north * .pi / 180) - sin(b.south * .pi / 180))
    }
}
