import GeoModel

/// A `FeatureSource` over input files of any supported format, read in order and reopened
/// on every pass. The paths come from a recipe the operator wrote (the daemon admits only
/// paths that resolve inside the root or `recipe_source_folders`), so symlinks are followed.
public struct FileFeatureSource: FeatureSource {
    public let paths: [String]

    public init(path: String) { paths = [path] }
    public init(paths: [String]) { self.paths = paths }

    public func forEachFeature(_ body: (Feature) throws -> Void) throws {
        for path in paths {
            var limits = ReaderLimits.default
            limits.followSymlinks = true
            let reader = try FeatureReaders.open(path: path, limits: limits)
            while let f = try reader.next() { try body(f) }
        }
    }
}
