/// A JSON object that keeps its members in document order.
///
/// Properties are written back in the order a file gave them, so a converted source
/// diffs cleanly against its input. Small objects (the usual feature property set) are
/// searched linearly; once an object grows past `indexThreshold` members it also keeps a
/// hash index from key to position, so a hostile feature with hundreds of thousands of
/// distinct keys is built and read in linear time instead of quadratic.
public struct JSONObject: Sendable, Hashable, Sequence {
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Members past which lookups go through the hash index rather than a linear scan.
    static let indexThreshold = 32

    public private(set) var members: [Member]
    /// Key → position in `members`; nil while the object is small.
    private var index: [String: Int]?

    public init() { members = [] }

    /// An empty object with room for `capacity` members, so building it does not reallocate.
    public init(capacity: Int) {
        members = []
        members.reserveCapacity(capacity)
    }

    public init(_ members: [Member]) {
        self.members = []
        for m in members { self[m.key] = m.value }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    /// Equal when the members are equal in order; the index is a cache and does not count.
    public static func == (a: JSONObject, b: JSONObject) -> Bool { a.members == b.members }

    public func hash(into hasher: inout Hasher) { hasher.combine(members) }

    /// The position of `key` in `members`, through the index when there is one.
    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.firstIndex(where: { $0.key == key })
    }

    /// Reads a member; setting replaces it in place, appends a new one, or removes it with nil.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            switch (position(of: key), newValue) {
            case let (i?, v?): members[i].value = v
            case let (i?, nil):
                members.remove(at: i)
                if index != nil { rebuildIndex() }
            case let (nil, v?): appendUnchecked(key: key, value: v)
            case (nil, nil): break
            }
        }
    }

    /// Appends without checking for an existing key; for parsers that already know it is new.
    public mutating func appendUnchecked(key: String, value: JSONValue) {
        members.append(Member(key: key, value: value))
        if index != nil {
            index![key] = members.count - 1
        } else if members.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Builds the index from scratch (first growth past the threshold, or after a removal).
    private mutating func rebuildIndex() {
        guard members.count > Self.indexThreshold else { index = nil; return }
        var built = [String: Int](minimumCapacity: members.count)
        for (i, m) in members.enumerated() { built[m.key] = i }
        index = built
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}
