/// A GeoJSON Feature (RFC 7946 §3.2): the unit every reader hands out and every stage consumes.
///
/// `geometry` is nil for a feature without geometry (GeoJSON `"geometry": null`), which
/// KML Placemarks without geometry produce. `id` is a string or a number when present.
public struct Feature: Sendable, Hashable {
    public var id: JSONValue?
    public var geometry: Geometry?
    public var properties: JSONObject
    /// The stable id tiledrop gave the feature when it entered a map's source (1, 2, 3, … per
    /// map, never reused), stored in the source line as the foreign member `"tiledrop_id"`
    /// (RFC 7946 §6.1). It is not a property and not the GeoJSON `id`, so tiles never see it;
    /// nil for features that were not ingested (or were ingested by a version before ids).
    public var sourceID: Int64?

    public init(id: JSONValue? = nil, geometry: Geometry?, properties: JSONObject = JSONObject(), sourceID: Int64? = nil) {
        self.id = id
        self.geometry = geometry
        self.properties = properties
        self.sourceID = sourceID
    }

    /// The foreign member that carries `sourceID` in a source line.
    public static let sourceIDMember = "tiledrop_id"
}
