/// Errors of the Tiling module: invalid recipes and expressions, and tiling failures.
public enum TilingError: Error, Sendable, CustomStringConvertible {
    /// The recipe is invalid; each message uses MTS's wording where MTS has one.
    case invalidRecipe(errors: [String])
    /// A tile could not be decoded (invalid MVT).
    case invalidTile(String)
    /// A source could not be read while tiling.
    case source(name: String, message: String)
    /// `Tiler.shouldCancel` asked the run to stop (the daemon is shutting down); nothing was finished.
    case canceled

    public var description: String {
        switch self {
        case .invalidRecipe(let errors): "invalid recipe: " + errors.joined(separator: "; ")
        case .invalidTile(let m): "invalid tile: \(m)"
        case .source(let name, let m): "source \(name): \(m)"
        case .canceled: "tiling was canceled before it finished"
        }
    }
}
