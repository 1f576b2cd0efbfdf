import GeoModel

/// Parses KML `<coordinates>` text (KML 2.2 §16.10: "lon,lat[,alt]" tuples separated by whitespace).
///
/// Tolerant of what real exporters write — any whitespace (newlines, tabs) between tuples,
/// spaces around commas — and strict about what would corrupt data: a non-numeric value
/// or a one-value tuple makes the geometry invalid (the reader then skips the feature with
/// a warning). Values after the third are dropped, as togeojson does.
enum KMLCoordinates {
    static func parse(_ text: String) throws(FormatError) -> [Position] {
        var text = text
        let result = text.withUTF8 { u -> Result<[Position], FormatError> in
            do throws(FormatError) { return .success(try parse(UnsafeRawBufferPointer(u))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func parse(_ u: UnsafeRawBufferPointer) throws(FormatError) -> [Position] {
        var out: [Position] = []
        var values: [Double] = []
        values.reserveCapacity(4)
        var i = 0
        var pendingComma = false
        let n = u.count
        func finish() throws(FormatError) {
            guard !values.isEmpty else { return }
            guard values.count >= 2 else { throw GeoJSONCoding.invalid("coordinate tuple with a single value (\(values[0])); KML needs lon,lat[,alt]") }
            let p = Position(lon: values[0], lat: values[1], alt: values.count >= 3 ? values[2] : nil)
            try GeoJSONCoding.check(p)
            out.append(p)
            values.removeAll(keepingCapacity: true)
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
            if values.count < 3 { values.append(d) }
            pendingComma = false
        }
        try finish()
        return out
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// Parses a decimal number; exact (correctly rounded) via Clinger's fast path or strtod.
    static func parseDouble(_ u: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Double? {
        var i = start
        guard i < end else { return nil }
        var negative = false
        if u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") {
            negative = u[i] == UInt8(ascii: "-")
            i += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var sawDot = false
        var simple = true
        while i < end {
            let b = u[i]
            if b >= 48 && b <= 57 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(b - 48) } else { simple = false }
                if mantissa > 0 || b != 48 { digits += 1 }
                if sawDot { fraction += 1 }
            } else if b == UInt8(ascii: "."), !sawDot {
                sawDot = true
            } else {
                simple = false
                break
            }
            i += 1
        }
        if simple, i == end, i > start + (negative ? 1 : 0), digits <= 15, fraction <= 22, !(sawDot && i == start + 1) {
            let d = Double(mantissa) / powersOf10[fraction]
            return negative ? -d : d
        }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: u[start..<end]), as: UTF8.self)
        guard let d = Double(s), d.isFinite else { return nil }
        return d
    }

    static let powersOf10: [Double] = (0...22).map { e in
        var d = 1.0
        for _ in 0..<e { d *= 10 }
        return d
    }
}
