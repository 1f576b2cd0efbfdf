/// An sRGB colour with straight (not premultiplied) alpha, as styles name colours.
///
/// Parses the forms simplestyle and CartoCSS use: `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb(…)`,
/// `rgba(…)` and the CSS basic colour names.
public struct RenderColor: Sendable, Hashable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public var a: UInt8

    public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }

    /// `#rrggbb` (alpha is not part of the text; styles carry opacity separately).
    public var description: String {
        let hex = Array("0123456789abcdef")
        var s = "#"
        for v in [r, g, b] { s.append(hex[Int(v >> 4)]); s.append(hex[Int(v & 15)]) }
        return s
    }

    /// The colour with its alpha multiplied by `opacity` (0…1).
    public func withOpacity(_ opacity: Double) -> RenderColor {
        let o = max(0, min(1, opacity))
        return RenderColor(r: r, g: g, b: b, a: UInt8((Double(a) * o).rounded()))
    }

    public static let white = RenderColor(r: 255, g: 255, b: 255)
    public static let black = RenderColor(r: 0, g: 0, b: 0)
    public static let transparent = RenderColor(r: 0, g: 0, b: 0, a: 0)

    /// Parses a colour, or returns nil for text that is not one.
    public init?(parsing text: String) {
        let s = text.trimmingWhitespace().lowercased()
        if s.hasPrefix("#") {
            let digits = s.dropFirst().map { $0.hexDigitValue }
            guard !digits.contains(nil) else { return nil }
            let d = digits.map { UInt8($0!) }
            switch d.count {
            case 3: self.init(r: d[0] * 17, g: d[1] * 17, b: d[2] * 17)
            case 6: self.init(r: d[0] << 4 | d[1], g: d[2] << 4 | d[3], b: d[4] << 4 | d[5])
            case 8: self.init(r: d[0] << 4 | d[1], g: d[2] << 4 | d[3], b: d[4] << 4 | d[5], a: d[6] << 4 | d[7])
            default: return nil
            }
            return
        }
        if s.hasPrefix("rgb"), let open = s.firstIndex(of: "("), s.hasSuffix(")") {
            let inner = s[s.index(after: open)..<s.index(before: s.endIndex)]
            let parts = inner.split(separator: ",").map { String($0).trimmingWhitespace() }
            guard parts.count == 3 || parts.count == 4 else { return nil }
            var channels: [UInt8] = []
            for p in parts.prefix(3) {
                if p.hasSuffix("%"), let v = Double(p.dropLast()) {
                    channels.append(UInt8(max(0, min(255, (v * 2.55).rounded()))))
                } else if let v = Double(p) {
                    channels.append(UInt8(max(0, min(255, v.rounded()))))
                } else { return nil }
            }
            var alpha: UInt8 = 255
            if parts.count == 4 {
                guard let v = Double(parts[3]) else { return nil }
                alpha = UInt8(max(0, min(1, v)) * 255 + 0.5)
            }
            self.init(r: channels[0], g: channels[1], b: channels[2], a: alpha)
            return
        }
        guard let named = RenderColor.names[s] else { return nil }
        self = named
    }

    /// The CSS level 1 colour names (plus `transparent`), which CartoCSS styles often use.
    static let names: [String: RenderColor] = [
        "black": .init(r: 0, g: 0, b: 0), "silver": .init(r: 192, g: 192, b: 192),
        "gray": .init(r: 128, g: 128, b: 128), "grey": .init(r: 128, g: 128, b: 128),
        "white": .init(r: 255, g: 255, b: 255), "maroon": .init(r: 128, g: 0, b: 0),
        "red": .init(r: 255, g: 0, b: 0), "purple": .init(r: 128, g: 0, b: 128),
        "fuchsia": .init(r: 255, g: 0, b: 255), "green": .init(r: 0, g: 128, b: 0),
        "lime": .init(r: 0, g: 255, b: 0), "olive": .init(r: 128, g: 128, b: 0),
        "yellow": .init(r: 255, g: 255, b: 0), "navy": .init(r: 0, g: 0, b: 128),
        "blue": .init(r: 0, g: 0, b: 255), "teal": .init(r: 0, g: 128, b: 128),
        "aqua": .init(r: 0, g: 255, b: 255), "orange": .init(r: 255, g: 165, b: 0),
        "transparent": .transparent,
    ]
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
