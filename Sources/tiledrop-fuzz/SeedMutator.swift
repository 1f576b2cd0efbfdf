/// A small mutation engine for the plain driver (toolchains without libFuzzer): byte flips,
/// interesting values, insertions, deletions, duplicated chunks and splices of two seeds.
struct SeedMutator {
    private var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    /// xorshift64*: fast, reproducible from the printed seed.
    mutating func next(_ bound: Int) -> Int {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Int((state &* 2_685_821_657_736_338_717) >> 1) % max(bound, 1)
    }

    static let interesting: [[UInt8]] = [
        [0], [0xFF], [0x7F], [0x80], Array("-1".utf8), Array("1e309".utf8), Array("\"".utf8), Array("<".utf8),
        Array("]]>".utf8), Array("&#0;".utf8), Array("{".utf8), Array("[".utf8), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], Array("9999999999999999999999".utf8),
    ]

    /// One to eight stacked mutations of `input`, spliced with `other` now and then.
    mutating func mutate(_ input: [UInt8], other: [UInt8], maxSize: Int) -> [UInt8] {
        var out = input
        for _ in 0...next(8) {
            let at = next(out.count + 1)
            switch next(7) {
            case 0 where !out.isEmpty: out[min(at, out.count - 1)] ^= UInt8(1 << next(8))
            case 1 where !out.isEmpty: out[min(at, out.count - 1)] = UInt8(truncatingIfNeeded: next(256))
            case 2: out.insert(contentsOf: Self.interesting[next(Self.interesting.count)], at: at)
            case 3 where !out.isEmpty:
                let n = min(out.count - min(at, out.count - 1), 1 + next(64))
                out.removeSubrange(min(at, out.count - 1)..<(min(at, out.count - 1) + n))
            case 4 where !out.isEmpty:
                let from = next(out.count), n = min(out.count - from, 1 + next(256))
                out.insert(contentsOf: out[from..<(from + n)], at: at)
            case 5 where !other.isEmpty:
                let from = next(other.count)
                out = Array(out.prefix(at)) + other[from...]
            default:
                if !out.isEmpty { out[min(at, out.count - 1)] = UInt8(ascii: "0") &+ UInt8(next(10)) }
            }
        }
        return out.count > maxSize ? Array(out.prefix(maxSize)) : out
    }
}
