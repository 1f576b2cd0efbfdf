import GeoModel

/// A `FeatureSource` over one or more line-delimited GeoJSON files, read in order.
///
/// This is how the tiler reads a map's sources: every pass reopens the files and streams
/// them again, so memory does not grow with the data. A file that cannot be read throws
/// its `FormatError`; features the reader skips (there should be none in our own output)
/// are simply not delivered.
public struct GeoJSONSeqSource: FeatureSource {
    public let paths: [String]
    public let limits: ReaderLimits

    public init(paths: [String]) {
        self.paths = paths
        self.limits = .default
    }

    public init(paths: [String], limits: ReaderLimits) {
        self.paths = paths
        self.limits = limits
    }

    public func forEachFeature(_ body: (Feature) throws -> Void) throws {
        for path in paths {
            let file = try FileInput(path: path, name: path, followSymlinks: false)
            if file.size == 0 { continue }
            let reader = GeoJSONReader(input: file, name: path, limits: limits, format: .geojsonSeq)
            while let f = try reader.next() { try body(f) }
        }
    }
}
