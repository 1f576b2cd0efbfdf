import GeoModel
import Rendering
import Tiling

/// Turns parsed blocks into a `CartoStyle`: values checked and converted, filters compiled to
/// expressions, rules ordered by specificity.
struct CartoStyleCompiler {
    private var warnings: [String] = []
    private var dropped = 0

    private mutating func warn(_ text: String, at p: TextPosition) {
        if warnings.count < CartoStyle.maxWarnings { warnings.append("line \(p.line), column \(p.column): \(text)") } else { dropped += 1 }
    }

    mutating func compile(_ blocks: [CartoCSSParser.Block]) throws(CartoError) -> CartoStyle {
        var background: RenderColor?
        var names: [String] = []
        var rules: [(specificity: Int, order: Int, rule: StyleRule)] = []
        var warnedAttachment = false
        var warnedInstances: Set<String> = []
        for block in blocks where !block.declarations.isEmpty {
            let sel = block.selector
            if let n = sel.layer, !names.contains(n) {
                names.append(n)
                if names.count == 2 {
                    warn("the style names several layers (#\(names[0]), #\(n)); all of its rules apply to this layer, as in CARTO", at: sel.position)
                }
            }
            if sel.attachment != nil && !warnedAttachment {
                warnedAttachment = true
                warn("attachments (`::\(sel.attachment!)`) are not drawn separately: their values merge with the layer's in rule order", at: sel.position)
            }
            if sel.isMap {
                if !sel.filters.isEmpty { warn("filters on `Map` are ignored", at: sel.position) }
                for d in block.declarations {
                    if d.property == "background-color" {
                        background = try color(d)
                    } else {
                        warn("`\(d.property)` is not supported in `Map` and was ignored (supported: background-color)", at: d.position)
                    }
                }
                continue
            }
            var style = LayerStyle()
            for var d in block.declarations {
                if let slash = d.property.firstIndex(of: "/") {
                    let instance = String(d.property[..<slash])
                    if !warnedInstances.contains(instance) {
                        warnedInstances.insert(instance)
                        warn("symbolizer instances (`\(instance)/`) are not drawn separately: their values merge with the others in rule order", at: d.position)
                    }
                    d.property = String(d.property[d.property.index(after: slash)...])
                }
                try apply(d, to: &style)
            }
            guard style != LayerStyle() else { continue }
            let filter = CartoStyleCompiler.expression(sel.filters)
            rules.append((sel.filters.count, block.order, StyleRule(filter: filter, style: style)))
        }
        if dropped > 0 { warnings.append("… and \(dropped) more warnings") }
        rules.sort { ($0.specificity, $0.order) < ($1.specificity, $1.order) }
        let layer = LayerStyle(featurePropertiesWin: false, rules: rules.map(\.rule), onlyStyledSymbolizers: true)
        return CartoStyle(layer: layer, background: background, warnings: warnings, layerNames: names)
    }

    private mutating func apply(_ d: CartoCSSParser.Declaration, to s: inout LayerStyle) throws(CartoError) {
        switch d.property {
        case "marker-fill": s.markerColor = try color(d)
        case "marker-width": s.markerWidth = try number(d, in: 0...256)
        case "marker-line-color": s.markerOutline = try color(d)
        case "marker-line-width": s.markerOutlineWidth = try number(d, in: 0...64)
        case "marker-opacity": s.markerOpacity = try number(d, in: 0...1)
        case "marker-fill-opacity": s.markerFillOpacity = try number(d, in: 0...1)
        case "marker-line-opacity": s.markerOutlineOpacity = try number(d, in: 0...1)
        case "line-color": s.stroke = try color(d)
        case "line-width": s.strokeWidth = try number(d, in: 0...256)
        case "line-opacity": s.strokeOpacity = try number(d, in: 0...1)
        case "polygon-fill": s.fill = try color(d)
        case "polygon-opacity": s.fillOpacity = try number(d, in: 0...1)
        default:
            warn("`\(d.property)` is not supported and was ignored (supported: \(CartoStyle.properties.joined(separator: ", ")))", at: d.position)
        }
    }

    /// A colour value: a name, `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb(r, g, b)` or `rgba(r, g, b, a)`.
    private func color(_ d: CartoCSSParser.Declaration) throws(CartoError) -> RenderColor {
        let v = d.value
        switch v.first?.kind {
        case .hash(let hex)? where v.count == 1:
            if let c = RenderColor(parsing: "#" + hex) { return c }
            throw CartoError("`#\(hex)` is not a colour for `\(d.property)`: write #rgb or #rrggbb", at: v[0].position)
        case .ident(let name)? where v.count == 1:
            if let c = RenderColor(parsing: name) { return c }
            throw CartoError("`\(name)` is not a colour name known here for `\(d.property)`: use a CSS name such as red, or #rrggbb", at: v[0].position)
        case .ident(let f)? where v.count > 1 && v[1].isSymbol("("):
            guard f == "rgb" || f == "rgba" else {
                throw CartoError("the colour function `\(f)()` is not supported for `\(d.property)`: write the colour as #rrggbb or rgba()", at: v[0].position)
            }
            var text = f
            for t in v.dropFirst() {
                switch t.kind {
                case .symbol(let s) where ["(", ")", ","].contains(s): text += s
                case .number(let n, let unit) where unit.isEmpty || unit == "%": text += "\(n)\(unit)"
                default: throw CartoError("\(t.shown) does not belong in `\(f)()`", at: t.position)
                }
            }
            if let c = RenderColor(parsing: text) { return c }
            throw CartoError("`\(f)()` takes \(f == "rgb" ? 3 : 4) numbers", at: v[0].position)
        default:
            throw CartoError("`\(d.property)` expects one colour (a name, #rrggbb or rgba()), found \(v.first?.shown ?? "nothing")\(v.count > 1 ? " …" : "")", at: v.first?.position ?? d.position)
        }
    }

    /// A number in `range`, optionally with the unit `px`.
    private func number(_ d: CartoCSSParser.Declaration, in range: ClosedRange<Double>) throws(CartoError) -> Double {
        let v = d.value
        var sign = 1.0
        var tokens = v[...]
        if tokens.first?.isSymbol("-") == true {
            sign = -1
            tokens = tokens.dropFirst()
        }
        guard tokens.count == 1, case .number(let n, let unit) = tokens.first!.kind, unit.isEmpty || unit == "px" else {
            throw CartoError("`\(d.property)` expects a number, found \(v[0].shown)\(v.count > 1 ? " …" : "")", at: v[0].position)
        }
        let value = sign * n
        guard range.contains(value) else {
            throw CartoError("`\(d.property)` must be from \(CartoStyleCompiler.format(range.lowerBound)) to \(CartoStyleCompiler.format(range.upperBound)), found \(CartoStyleCompiler.format(value))", at: v[0].position)
        }
        return value
    }

    static func format(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

    /// Mapnik's geometry type numbers: 1 point, 2 line, 3 polygon.
    static let geometryTypeNumber = Expression.match(.call("geometry-type", []), [
        ([.string("Point")], .literal(.int(1))), ([.string("LineString")], .literal(.int(2))), ([.string("Polygon")], .literal(.int(3))),
    ], .literal(.int(0)))

    /// The filters of a selector as one expression (nil: no filter).
    static func expression(_ filters: [CartoCSSParser.Filter]) -> Expression? {
        let parts: [Expression] = filters.map { f in
            let subject: Expression
            switch f.key {
            case "zoom": subject = .call("zoom", [])
            case "mapnik::geometry_type": subject = geometryTypeNumber
            default: subject = .call("get", [.literal(.string(f.key))])
            }
            return .call(f.op == "=" ? "==" : f.op, [subject, .literal(f.value)])
        }
        switch parts.count {
        case 0: return nil
        case 1: return parts[0]
        default: return .call("all", parts)
        }
    }
}
