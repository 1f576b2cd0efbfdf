/// One coordinate: longitude and latitude in WGS 84 degrees, altitude in metres when known.
///
/// RFC 7946 §3.1.1: a position is `[lon, lat]` or `[lon, lat, alt]`; further elements are
/// allowed by the RFC but have no agreed meaning, so readers drop them.
public struct Position: Sendable, Hashable {
    public var lon: Double
    public var lat: Double
    public var alt: Double?

    public init(lon: Double, lat: Double, alt: Double? = nil) {
        self.lon = lon
        self.lat = lat
        self.alt = alt
    }

    /// True when both values are finite and within the WGS 84 ranges (±180, ±90).
    public var isValidWGS84: Bool {
        lon.isFinite && lat.isFinite && abs(lon) <= 180 && abs(lat) <= 90 && (alt?.isFinite ?? true)
    }
}
