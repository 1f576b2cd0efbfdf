import GeoModel

/// Parses KML `<coordinates>` text (KML 2.2 §16.10: "lon,lat[,alt]" tuples separated by whitespace).
///
/// Tolerant of what real exporters write — any whitespace (newlines, tabs) between tuples,
/// spaces around commas — and strict about what would corrupt data: a non-numeric value
/// or a one-value tuple makes the geometry invalid (the reader then skips the feature with
/// a warning). Values after the third are dropped, as togeojson does.
enum KMLCoordinates {
    static func parse(_ u: UnsafeRawBufferPointer) throws(FormatError) -> [Position] {
        var out: [Position] = []
        try forEach(u) { out.append($0) }
        return out
    }

    /// The first position (a Point's); every tuple is still checked, as `parse` does.
    static func first(_ u: UnsafeRawBufferPointer) throws(FormatError) -> Position? {
        var first: Position?
        try forEach(u) { p in if first == nil { first = p } }
        return first
    }

    /// Calls `body` with each position in order; throws for the first malformed tuple.
    static func forEach(_ u: UnsafeRawBufferPointer, _ body: (Position) -> Void) throws(FormatError) {
        // The current tuple's first three values (later ones are dropped) and how many it had.
        var v0 = 0.0, v1 = 0.0, v2 = 0.0
        var count = 0
        var i = 0
        var pendingComma = false
        let n = u.count
        func finish() throws(FormatError) {
            guard count > 0 else { return }
            guard count >= 2 else { throw GeoJSONCoding.invalid("coordinate tuple with a single value (\(v0)); KML needs lon,lat[,alt]") }
            let p = Position(lon: v0, lat: v1, alt: count >= 3 ? v2 : nil)
            try GeoJSONCoding.check(p)
            body(p)
            count = 0
        }
        while i < n {
            var sawSpace = false
            while i < n, isSpace(u[i]) { i += 1; sawSpace = true }
            guard i < n else { break }
            if u[i] == UInt8(ascii: ",") {
                pendingComma = true
                i += 1
                continue
            }
            if sawSpace, !pendingComma { try finish() }
            let start = i
            while i < n, !isSpace(u[i]), u[i] != UInt8(ascii: ",") { i += 1 }
            guard let d = parseDouble(u, start, i) else {
                let token = String(decoding: UnsafeRawBufferPointer(rebasing: u[start..<min(i, start + 30)]), as: UTF8.self)
                throw GeoJSONCoding.invalid("non-numeric coordinate \"\(token)\"")
            }
            switch count {
            case 0: v0 = d
            case 1: v1 = d
            case 2: v2 = d
            default: break
            }
            count += 1
            pendingComma = false
        }
        try finish()
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// Parses a decimal number (optional sign, fraction, exponent), correctly rounded.
    static func parseDouble(_ u: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Double? {
        guard let d = DecimalToDouble.parse(UnsafeRawBufferPointer(rebasing: u[start..<end])), d.isFinite else { return nil }
        return d
    }
}
