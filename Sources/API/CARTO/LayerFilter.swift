/// The `{layers_filter}` of a layer group tile URL: `all`, one index (`2`) or a
/// comma-separated list (`0,1,3`), 0-based into the config's `layers`.
///
/// Order does not matter: layers are always drawn (and put into MVT tiles) in config order,
/// so `1,0` and `0,1` address the same tile. A repeated, negative, out-of-range or
/// non-numeric index is CARTO's "Invalid layer filtering".
struct LayerFilter: Sendable, Equatable {
    /// Sorted, distinct layer indices.
    let indices: [Int]

    /// Every layer of a group with `count` layers.
    static func all(_ count: Int) -> LayerFilter { LayerFilter(indices: Array(0..<count)) }

    private init(indices: [Int]) { self.indices = indices }

    init(parsing text: String, layerCount: Int) throws(CartoRequestError) {
        if text == "all" {
            indices = Array(0..<layerCount)
            return
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var seen = Set<Int>()
        guard !parts.isEmpty, parts.count <= layerCount else { throw Self.invalid(text) }
        for part in parts {
            guard part.utf8.count <= 4, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let i = Int(part), i < layerCount,
                  seen.insert(i).inserted else { throw Self.invalid(text) }
        }
        indices = seen.sorted()
    }

    private static func invalid(_ text: String) -> CartoRequestError {
        CartoRequestError(status: 400, "Invalid layer filtering", type: "layer")
    }

    /// Whether the filter names every layer (the URL without a filter segment).
    func isAll(layerCount: Int) -> Bool { indices.count == layerCount }

    /// The text used in cache keys: indices joined by commas.
    var key: String { indices.map(String.init).joined(separator: ",") }
}
