import GeoModel

/// A streaming reader: hands out one feature at a time from an open input file.
///
/// Readers never hold a whole file: memory stays bounded by `ReaderLimits.maxFeatureBytes`
/// plus a read buffer. Features come in document order. A broken feature is skipped and
/// recorded in `warnings`; a file that is not well-formed throws from `next()`.
public protocol FeatureReader: AnyObject {
    var format: InputFormat { get }
    /// Next feature, nil at end. Invalid features are skipped and recorded in `warnings`.
    func next() throws(FormatError) -> Feature?
    var warnings: [FormatWarning] { get }
    /// MapHub-style groups met so far (KML folders, GeoJSON top-level "groups"), if any.
    var groups: [FeatureGroup] { get }
    /// Input bytes consumed so far (compressed bytes for KMZ), for progress reporting.
    var bytesRead: Int { get }
}

/// A group of features in the MapHub sense (a KML Folder, a MapHub GeoJSON `groups` entry).
///
/// How a feature names its group:
/// - GeoJSON written by MapHub: `properties.group` holds the group's `id` (a number);
///   the file's top-level `"groups": [{"id": 1, "title": "…"}]` gives `title`.
/// - KML: every Placemark inside one or more `<Folder>`s gets the property
///   `FeatureGroup.folderProperty` (`"@folder"`) holding the folder path, the folder names
///   from the outermost joined by `" / "`; the group's `id` is that same string.
/// The daemon looks the feature's value up in `groups` to find the title for MapHub's
/// `new_group` semantics.
public struct FeatureGroup: Sendable, Hashable {
    /// The value features carry to say they belong here (`properties.group` or `"@folder"`).
    public var id: JSONValue
    public var title: String

    public init(id: JSONValue, title: String) {
        self.id = id
        self.title = title
    }

    /// The property KML features carry with their folder path.
    public static let folderProperty = "@folder"
    /// The property MapHub GeoJSON features carry with their group id.
    public static let groupProperty = "group"

    /// The group id a feature carries, if any (`@folder` first, then MapHub's `group`).
    public static func id(of feature: Feature) -> JSONValue? {
        feature.properties[folderProperty] ?? feature.properties[groupProperty]
    }
}
