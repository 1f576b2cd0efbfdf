/// A problem that did not stop the conversion: usually a skipped or repaired feature.
///
/// The message starts with the position, e.g. `feature 12 (line 40): ring has 3 positions,
/// at least 4 are needed; skipped`, so an ingest report can list it as is.
public struct FormatWarning: Sendable, CustomStringConvertible, Hashable {
    public var message: String
    /// 0-based index of the feature in the input (in file order), when the warning is about one.
    public var featureIndex: Int?
    /// 1-based line in the input, when known.
    public var line: Int?

    public init(message: String, featureIndex: Int? = nil, line: Int? = nil) {
        self.message = message
        self.featureIndex = featureIndex
        self.line = line
    }

    /// Builds the standard `feature N (line L): reason` text.
    static func feature(_ index: Int, line: Int?, _ reason: String) -> FormatWarning {
        let position = line.map { "feature \(index) (line \($0))" } ?? "feature \(index)"
        return FormatWarning(message: "\(position): \(reason)", featureIndex: index, line: line)
    }

    public var description: String { message }
}
