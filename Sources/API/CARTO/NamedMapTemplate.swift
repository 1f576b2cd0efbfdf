import Carto
import Foundation
import GeoModel

/// A CARTO named map template: a MapConfig (`layergroup`) with `<%= name %>` placeholders,
/// their types and defaults, and who may instantiate it (`auth`).
///
/// Placeholder values are checked against their type before they touch the template, so a
/// value cannot change what the SQL means: a `number` is written as a number, an `sql_ident`
/// must be a plain identifier, a `css_color` a colour name or hex colour, and a `string` has
/// its single quotes doubled (the template writes it between quotes, as CARTO's do).
struct NamedMapTemplate: Sendable, Equatable {
    enum PlaceholderType: String, Sendable, CaseIterable { case number, string, sql_ident, css_color }

    struct Placeholder: Sendable, Equatable {
        var type: PlaceholderType
        var defaultValue: JSONValue
    }

    var version: String
    var name: String
    /// nil: `open`; else the `valid_tokens` of `token` auth.
    var validTokens: [String]?
    var placeholders: [String: Placeholder]
    var layergroup: JSONValue
    var view: JSONValue?

    static let maxPlaceholders = 64
    static let maxTokens = 64

    /// Parses and checks a template: names, auth, placeholder types and defaults, that every
    /// `<%= … %>` is declared, and that the layergroup with the defaults is a valid MapConfig
    /// whose SQL compiles.
    static func parse(_ json: JSONValue) throws(CartoRequestError) -> NamedMapTemplate {
        guard case .object(let o) = json else { throw .invalid("The template must be a JSON object") }
        guard case .string(let name)? = o["name"], isName(name) else {
            throw .invalid("The template needs a name of 1 to 64 letters, digits, '_' or '-'")
        }
        let version = o["version"]?.stringValue ?? "0.0.1"
        guard version.count <= 16 else { throw .invalid("Invalid template version") }
        var tokens: [String]?
        switch o["auth"]?["method"]?.stringValue ?? (o["auth"] == nil ? "open" : nil) {
        case "open"?: tokens = nil
        case "token"?:
            guard case .array(let list)? = o["auth"]?["valid_tokens"] else { throw .invalid("auth method token needs valid_tokens, an array of strings") }
            let strings = list.compactMap(\.stringValue)
            guard strings.count == list.count, list.count <= maxTokens, strings.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
                throw .invalid("valid_tokens must be at most \(maxTokens) non-empty strings")
            }
            tokens = strings
        default: throw .invalid("Unsupported authentication method: use auth {\"method\": \"open\"} or {\"method\": \"token\", \"valid_tokens\": […]}")
        }
        var placeholders: [String: Placeholder] = [:]
        switch o["placeholders"] {
        case nil, .null?: break
        case .object(let p)?:
            guard p.count <= maxPlaceholders else { throw .invalid("A template may declare at most \(maxPlaceholders) placeholders") }
            for member in p {
                guard isIdentifier(member.key) else { throw .invalid("Invalid placeholder name '\(member.key.prefix(64))': use letters, digits and '_'") }
                guard let typeName = member.value["type"]?.stringValue, let type = PlaceholderType(rawValue: typeName) else {
                    throw .invalid("Invalid placeholder type for '\(member.key)': use number, string, sql_ident or css_color")
                }
                guard let value = member.value["default"] else { throw .invalid("Missing default for placeholder '\(member.key)'") }
                _ = try substitute(value, as: type, name: member.key)
                placeholders[member.key] = Placeholder(type: type, defaultValue: value)
            }
        default: throw .invalid("placeholders must be an object")
        }
        guard let layergroup = o["layergroup"], case .object = layergroup else { throw .invalid("Missing layergroup in the template") }
        let template = NamedMapTemplate(version: version, name: name, validTokens: tokens, placeholders: placeholders, layergroup: layergroup, view: o["view"])
        let config = try template.config(parameters: nil)
        for (i, layer) in config.layers.enumerated() where layer.kind == .mapnik {
            do { _ = try LayerQuery.parse(layer.sql) } catch { throw .invalid("Layer \(i): \(error.description)", layer: i) }
        }
        return template
    }

    /// The MapConfig with `parameters` (placeholder name → value; missing ones take their
    /// default) written into the layergroup's strings.
    func config(parameters: JSONObject?) throws(CartoRequestError) -> MapConfig {
        var texts: [String: String] = [:]
        for (name, p) in placeholders {
            let given = parameters?[name]
            texts[name] = try Self.substitute(given ?? p.defaultValue, as: p.type, name: name)
        }
        return try MapConfig.parse(try Self.fill(layergroup, with: texts))
    }

    /// The template as CARTO shows it (`GET /api/v1/map/named/{name}`).
    var json: JSONValue {
        var o = JSONObject()
        o["version"] = .string(version)
        o["name"] = .string(name)
        var auth = JSONObject()
        auth["method"] = .string(validTokens == nil ? "open" : "token")
        if let validTokens { auth["valid_tokens"] = .array(validTokens.map(JSONValue.string)) }
        o["auth"] = .object(auth)
        var p = JSONObject()
        for key in placeholders.keys.sorted() {
            var d = JSONObject()
            d["type"] = .string(placeholders[key]!.type.rawValue)
            d["default"] = placeholders[key]!.defaultValue
            p[key] = .object(d)
        }
        o["placeholders"] = .object(p)
        o["layergroup"] = layergroup
        if let view { o["view"] = view }
        return .object(o)
    }

    /// Whether `token` (an `auth_token`) may instantiate the template.
    func admits(_ token: String?) -> Bool {
        guard let validTokens else { return true }
        guard let token else { return false }
        return validTokens.contains(token)
    }

    // MARK: placeholders

    /// The text a value of `type` stands for in the template, or a 400 naming the placeholder.
    static func substitute(_ value: JSONValue, as type: PlaceholderType, name: String) throws(CartoRequestError) -> String {
        let text: String?
        switch (type, value) {
        case (.number, .int(let i)): text = String(i)
        case (.number, .double(let d)) where d.isFinite: text = String(d)
        case (.number, .string(let s)):
            // Only the characters of a number: nothing else can reach the SQL.
            let t = s.trimmingCharacters(in: .whitespaces)
            text = Double(t)?.isFinite == true && t.count <= 32 && t.allSatisfy({ "0123456789.-+eE".contains($0) }) ? t : nil
        case (.string, .string(let s)) where !s.contains("\0") && s.utf8.count <= 4096: text = s.replacingOccurrences(of: "'", with: "''")
        case (.string, .int(let i)): text = String(i)
        case (.sql_ident, .string(let s)) where isIdentifier(s): text = s
        case (.css_color, .string(let s)) where isColor(s): text = s
        default: text = nil
        }
        guard let text else {
            throw .invalid("Invalid value for placeholder '\(name.prefix(64))': it must be a \(type.rawValue)")
        }
        return text
    }

    /// Replaces `<%= name %>` (spaces optional) in every string of `value`; an undeclared name is an error.
    static func fill(_ value: JSONValue, with texts: [String: String]) throws(CartoRequestError) -> JSONValue {
        switch value {
        case .string(let s): return .string(try fill(s, with: texts))
        case .array(let a):
            var out: [JSONValue] = []
            for v in a { out.append(try fill(v, with: texts)) }
            return .array(out)
        case .object(let o):
            var out = JSONObject()
            for m in o { out[m.key] = try fill(m.value, with: texts) }
            return .object(out)
        default: return value
        }
    }

    private static func fill(_ s: String, with texts: [String: String]) throws(CartoRequestError) -> String {
        guard s.contains("<%") else { return s }
        var out = ""
        var rest = Substring(s)
        while let open = rest.range(of: "<%=") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "%>") else { throw .invalid("Unterminated placeholder '<%=' in the template") }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let text = texts[name] else { throw .invalid("Template uses the undeclared placeholder '\(name.prefix(64))'") }
            out += text
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { isWordByte($0) || $0 == 0x2D }
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return s.utf8.count <= 63 && s.utf8.allSatisfy(isWordByte)
    }

    private static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    /// A CSS colour name (letters only) or `#rgb`, `#rrggbb`, `#rrggbbaa`.
    static func isColor(_ s: String) -> Bool {
        if s.hasPrefix("#") {
            let hex = s.dropFirst()
            return [3, 6, 8].contains(hex.count) && hex.allSatisfy(\.isHexDigit)
        }
        return !s.isEmpty && s.count <= 32 && s.unicodeScalars.allSatisfy { $0.isASCII && $0.properties.isAlphabetic }
    }
}
