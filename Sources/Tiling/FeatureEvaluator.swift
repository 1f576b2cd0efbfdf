import GeoModel

/// Applies a recipe layer's `features` section (filter, attributes, id) and `tiles.order` /
/// `tiles.limit` keys to one feature at one zoom.
enum FeatureEvaluator {
    /// True when any expression depends on the zoom, so outputs must be computed per zoom.
    static func isDynamic(_ l: Recipe.Layer) -> Bool {
        (l.filter?.usesZoom ?? false) || (l.id?.usesZoom ?? false) || (l.order?.usesZoom ?? false)
            || l.set.contains { $0.value.usesZoom } || l.limits.contains { $0.filter.usesZoom }
    }

    static func evaluate(_ l: Recipe.Layer, properties: JSONObject, id: JSONValue?, geometryType: String, zoom: Double) -> FeatureOutput {
        var c = ExpressionContext(properties: properties, id: id, geometryType: geometryType, zoom: zoom)
        if let f = l.filter, !f.test(c) {
            return FeatureOutput(kept: false, id: nil, properties: [], order: nil, limitKeys: [])
        }
        let original = c
        var out = properties
        for (name, e) in l.set {
            let v = e.evaluate(c)
            out[name] = v == .null ? nil : v
            c.properties = out
        }
        var props: [(key: String, value: MVTValue)] = []
        props.reserveCapacity(out.count)
        for m in out {
            if let allowed = l.allowedOutput {
                if !allowed.contains(m.key) { continue }
            } else if l.skipNestedAttributes, m.value.isNested {
                continue
            }
            if let v = MVTValue(json: m.value) { props.append((m.key, v)) }
        }
        let idValue = l.id.map { $0.evaluate(original) } ?? id
        var mvtID: UInt64?
        switch idValue {
        case .int(let i)? where i >= 0: mvtID = UInt64(i)
        case .double(let d)? where d >= 0 && d == d.rounded() && d < 1.8e19: mvtID = UInt64(d)
        case .string(let s)?: mvtID = UInt64(s)
        default: mvtID = nil
        }
        let order = l.order?.evaluate(c).doubleValue
        let limitKeys: [Double?] = l.limits.map { rule in
            rule.filter.test(c) ? (c.properties[rule.attribute]?.doubleValue ?? -.infinity) : nil
        }
        return FeatureOutput(kept: true, id: mvtID, properties: props, order: order, limitKeys: limitKeys)
    }

    static func simplification(_ l: Recipe.Layer, properties: JSONObject?, geometryType: String, zoom: Double) -> Double {
        let c = ExpressionContext(properties: properties ?? JSONObject(), id: nil, geometryType: geometryType, zoom: zoom)
        return max(0, l.simplification.evaluate(c).doubleValue ?? 4)
    }
}

extension JSONValue {
    /// Arrays and objects: written to tiles only as JSON text, which mostly bloats them.
    var isNested: Bool {
        switch self {
        case .array, .object: true
        default: false
        }
    }
}
