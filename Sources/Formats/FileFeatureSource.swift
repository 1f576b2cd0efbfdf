import GeoModel

/// A `FeatureSource` over input files of any supported format, read in order and reopened
/// on every pass.
public struct FileFeatureSource: FeatureSource {
    public let paths: [String]

    public init(path: String) { paths = [path] }
    public init(paths: [String]) { self.paths = paths }

    public func forEachFeature(_ body: (Feature) throws -> Void) throws {
        for path in paths {
            let reader = try FeatureReaders.open(path: path)
            while let f = try reader.next() { try body(f) }
        }
    }
}
