/// Hands out a map's stable feature ids (`tiledrop_id`) during one ingest or compaction.
///
/// Ids are 1, 2, 3, … per map and never reused: `first` is the map's next id (`state.db`,
/// or past the index's largest), and `next` is what the map's counter becomes when the
/// source is committed. Only a changeset's rewrite (`keepingExisting`) keeps an id a line
/// already carries, and only one below `first` — an id the map really handed out; every
/// other feature gets a new id, whatever `tiledrop_id` the dropped file claimed.
struct FeatureIDs {
    let first: Int64
    let keepingExisting: Bool
    private(set) var next: Int64

    init(first: Int64, keepingExisting: Bool = false) {
        self.first = first
        self.keepingExisting = keepingExisting
        next = first
    }

    /// The id for a feature that carries `existing`.
    mutating func assign(_ existing: Int64?) -> Int64 {
        if keepingExisting, let existing, existing < first { return existing }
        defer { next += 1 }
        return next
    }
}
