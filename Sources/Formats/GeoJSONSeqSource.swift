import GeoModel

/// A `FeatureSource` over one or more line-delimited GeoJSON files, read in order.
///
/// This is how the tiler reads a map's sources: every pass reopens the files and streams
/// them again, so memory does not grow with the data. A file that cannot be read throws
/// its `FormatError`; features the reader skips (there should be none in our own output)
/// are simply not delivered.
public struct GeoJSONSeqSource: FeatureSource {
    /// A file, or a byte range of one that starts and ends on a line boundary.
    public struct Segment: Sendable, Equatable {
        public var path: String
        public var offset: Int
        /// Bytes from `offset` on; nil reads to the end of the file.
        public var count: Int?

        public init(path: String, offset: Int = 0, count: Int? = nil) {
            self.path = path
            self.offset = offset
            self.count = count
        }
    }

    public let segments: [Segment]
    public let limits: ReaderLimits
    public var paths: [String] { segments.map(\.path) }

    public init(paths: [String], limits: ReaderLimits = .default) {
        self.init(segments: paths.map { Segment(path: $0) }, limits: limits)
    }

    public init(segments: [Segment], limits: ReaderLimits = .default) {
        self.segments = segments
        self.limits = limits
    }

    public func forEachFeature(_ body: (Feature) throws -> Void) throws {
        for segment in segments {
            let name = segment.offset == 0 && segment.count == nil ? segment.path : "\(segment.path) (from byte \(segment.offset))"
            let file = try FileInput(path: segment.path, name: name, followSymlinks: false)
            if file.size == 0 { continue }
            if segment.offset != 0 || segment.count != nil {
                try file.limit(to: segment.offset, count: segment.count ?? max(0, file.size - segment.offset))
            }
            let reader = GeoJSONReader(input: file, name: name, limits: limits, format: .geojsonSeq)
            while let f = try reader.next() { try body(f) }
        }
    }
}
