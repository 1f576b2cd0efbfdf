/// A GeoJSON Feature (RFC 7946 §3.2): the unit every reader hands out and every stage consumes.
///
/// `geometry` is nil for a feature without geometry (GeoJSON `"geometry": null`), which
/// KML Placemarks without geometry produce. `id` is a string or a number when present.
public struct Feature: Sendable, Hashable {
    public var id: JSONValue?
    public var geometry: Geometry?
    public var properties: JSONObject

    public init(id: JSONValue? = nil, geometry: Geometry?, properties: JSONObject = JSONObject()) {
        self.id = id
        self.geometry = geometry
        self.properties = properties
    }
}
