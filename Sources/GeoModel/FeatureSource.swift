/// Anything that can stream features in order, any number of times.
///
/// The tiler consumes sources through this protocol so it never depends on the readers:
/// Formats implements it for files, tests implement it with arrays.
public protocol FeatureSource: Sendable {
    /// Calls `body` for every feature, in order. May be called again for another pass.
    func forEachFeature(_ body: (Feature) throws -> Void) throws
}

/// A source backed by an in-memory array (tests, small one-shot inputs).
public struct ArrayFeatureSource: FeatureSource {
    public let features: [Feature]
    public init(_ features: [Feature]) { self.features = features }
    public func forEachFeature(_ body: (Feature) throws -> Void) throws {
        for f in features { try body(f) }
    }
}
