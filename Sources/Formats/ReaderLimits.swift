/// Safety limits every reader enforces, so a hostile or broken file fails fast and clearly.
///
/// The defaults suit a production drop folder: large real exports pass, zip bombs, absurd
/// nesting and single multi-gigabyte features do not. Exceeding a limit is a
/// `FormatError.limitExceeded` naming the limit, so an operator knows which knob to turn.
public struct ReaderLimits: Sendable {
    /// Largest input file accepted, in bytes (the compressed size for KMZ).
    public var maxFileBytes: Int
    /// Largest total uncompressed size of the KML read from a KMZ, declared or actual.
    public var maxUncompressedBytes: Int
    /// Largest uncompressed/compressed ratio of a KMZ entry (deflate tops out near 1032:1;
    /// real KML compresses 5-30:1).
    public var maxCompressionRatio: Int
    /// Deepest JSON or XML nesting accepted.
    public var maxNesting: Int
    /// Largest single feature (one GeoJSON feature's text, one KML Placemark's text) in bytes.
    public var maxFeatureBytes: Int
    /// Most warnings kept in full; the rest are only counted, so a file with millions of
    /// broken features cannot fill memory with messages.
    public var maxWarnings: Int
    /// Asked before every read from the file (each buffer refill, so about every 64 KiB to
    /// 1 MiB): true makes the read fail with ECANCELED. The daemon uses it so a deadline,
    /// a cancel request or SIGTERM holds even inside one huge feature.
    public var shouldStop: (@Sendable () -> Bool)?
    /// Whether a symbolic link at the input path is followed. Off by default (hostile by
    /// default: the daemon reads files other people drop); `tiledrop convert` and file sources
    /// of one-shot recipes turn it on for paths the user named.
    public var followSymlinks = false

    public init(maxFileBytes: Int = 16 << 30, maxUncompressedBytes: Int = 4 << 30, maxCompressionRatio: Int = 200,
                maxNesting: Int = 256, maxFeatureBytes: Int = 64 << 20, maxWarnings: Int = 1000) {
        self.maxFileBytes = maxFileBytes
        self.maxUncompressedBytes = maxUncompressedBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.maxNesting = maxNesting
        self.maxFeatureBytes = maxFeatureBytes
        self.maxWarnings = maxWarnings
    }

    public static let `default` = ReaderLimits()
}
