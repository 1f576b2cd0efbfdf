/// Length-limited canonical Huffman codes built from symbol counts (for VP8L).
///
/// Lengths come from the classic Huffman merge; when the longest code exceeds the limit the
/// counts are flattened (halved, keeping every used symbol at least 1) and the codes rebuilt,
/// which keeps the code complete as VP8L decoders require.
struct PrefixCode {
    /// Code length per symbol (0: unused).
    var lengths: [UInt8]
    /// Canonical code per symbol, bit-reversed for an LSB-first stream.
    var codes: [UInt16]

    init(counts: [Int], maxLength: Int) {
        var lengths = PrefixCode.huffmanLengths(counts)
        var c = counts
        while let m = lengths.max(), Int(m) > maxLength {
            c = c.map { $0 == 0 ? 0 : max(1, $0 / 2) }
            lengths = PrefixCode.huffmanLengths(c)
        }
        self.lengths = lengths
        codes = PrefixCode.canonical(lengths)
    }

    /// Huffman code lengths; one used symbol gets length 1 by convention (it is coded with 0 bits).
    static func huffmanLengths(_ counts: [Int]) -> [UInt8] {
        var lengths = [UInt8](repeating: 0, count: counts.count)
        let used = counts.indices.filter { counts[$0] > 0 }
        if used.count == 1 { lengths[used[0]] = 1 }
        guard used.count > 1 else { return lengths }
        // Nodes: leaves first, then internal nodes; parent links give depths.
        var weight = used.map { counts[$0] }
        var parent = [Int](repeating: -1, count: used.count)
        var heap = Array(0..<used.count).sorted { (weight[$0], $0) < (weight[$1], $1) }
        // Two-queue merge: leaves sorted by weight, internal nodes come out in weight order.
        var merged: [Int] = []
        var li = 0, ii = 0
        func pop() -> Int {
            if li < heap.count && (ii >= merged.count || weight[heap[li]] <= weight[merged[ii]]) { li += 1; return heap[li - 1] }
            ii += 1
            return merged[ii - 1]
        }
        for _ in 0..<(used.count - 1) {
            let a = pop(), b = pop()
            let node = weight.count
            weight.append(weight[a] + weight[b])
            parent.append(-1)
            parent[a] = node
            parent[b] = node
            merged.append(node)
        }
        heap = []
        var depth = [Int](repeating: 0, count: weight.count)
        for n in stride(from: weight.count - 2, through: 0, by: -1) { depth[n] = depth[parent[n]] + 1 }
        for (k, s) in used.enumerated() { lengths[s] = UInt8(depth[k]) }
        return lengths
    }

    /// Canonical codes (shorter codes first, then by symbol), bit-reversed.
    static func canonical(_ lengths: [UInt8]) -> [UInt16] {
        var codes = [UInt16](repeating: 0, count: lengths.count)
        var countPerLength = [Int](repeating: 0, count: 17)
        for l in lengths where l > 0 { countPerLength[Int(l)] += 1 }
        var next = [Int](repeating: 0, count: 17)
        var code = 0
        for l in 1...16 {
            code = (code + countPerLength[l - 1]) << 1
            next[l] = code
        }
        for (s, l) in lengths.enumerated() where l > 0 {
            let c = next[Int(l)]
            next[Int(l)] += 1
            var r = 0
            for b in 0..<Int(l) where c & (1 << b) != 0 { r |= 1 << (Int(l) - 1 - b) }
            codes[s] = UInt16(r)
        }
        return codes
    }
}

/// LSB-first bit packing (VP8L and DEFLATE order).
struct LSBBitWriter {
    var bytes: [UInt8] = []
    private var acc: UInt64 = 0
    private var count = 0

    @inline(__always)
    mutating func write(_ value: Int, _ n: Int) {
        acc |= UInt64(value) << UInt64(count)
        count += n
        while count >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: acc))
            acc >>= 8
            count -= 8
        }
    }

    mutating func finish() -> [UInt8] {
        if count > 0 { bytes.append(UInt8(truncatingIfNeeded: acc)) }
        acc = 0
        count = 0
        return bytes
    }
}
