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

/// The warnings of one reader: the first `limit` in full, then only a count.
///
/// `list` ends with a summary line when some were dropped, so every report still says how
/// many features were skipped in total.
struct WarningLog {
    private(set) var kept: [FormatWarning] = []
    private(set) var total = 0
    let limit: Int

    init(limit: Int) { self.limit = max(0, limit) }

    mutating func append(_ warning: FormatWarning) {
        total += 1
        if kept.count < limit { kept.append(warning) }
    }

    var list: [FormatWarning] {
        guard total > kept.count else { return kept }
        return kept + [FormatWarning(message: "… and \(total - kept.count) more warnings (\(total) in all; only the first \(kept.count) are listed)")]
    }
}
