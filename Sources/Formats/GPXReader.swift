import GeoModel

/// Streams features out of GPX 1.0 and 1.1 files, in togeojson's order: tracks, then routes, then waypoints.
///
/// GPX 1.1 (topografix.com/GPX/1/1): `trk` → LineString, or MultiLineString with one line per
/// `trkseg`; `rte` → LineString; `wpt` → Point; `ele` is the third coordinate. Per-point times
/// and extension values (Garmin TrackPointExtension heart rate, cadence, temperature, power …)
/// become `coordinateProperties` arrays. Segments with fewer than 2 valid points are skipped.
/// Tracks stream point by point. Routes and waypoints met before the end are held back so the
/// output order matches togeojson; past `maxHeldFeatures` the reader stops holding them and
/// reads the file again for each kind instead, so memory stays bounded.
final class GPXReader: FeatureReader {
    let format = InputFormat.gpx
    private var warningLog: WarningLog
    var warnings: [FormatWarning] { warningLog.list }
    let groups: [FeatureGroup] = []
    var bytesRead: Int { file.consumed }

    private enum Pass { case tracks, routes, waypoints, held, done }

    private let file: FileInput
    private let name: String
    private let limits: ReaderLimits
    private let maxHeldFeatures: Int
    private var scanner: XMLScanner
    private var pass = Pass.tracks
    private var sawRoot = false
    private var prefixes: Set<String> = []
    private var heldRoutes: [Feature] = []
    private var heldWaypoints: [Feature] = []
    private var held: [Feature] = []
    private var heldIndex = 0
    private var overflow = false
    private var sawRoutes = false
    private var sawWaypoints = false
    private var elementIndex = 0

    init(file: FileInput, name: String, limits: ReaderLimits, maxHeldFeatures: Int = 50_000) {
        warningLog = WarningLog(limit: limits.maxWarnings)
        self.file = file
        self.name = name
        self.limits = limits
        self.maxHeldFeatures = maxHeldFeatures
        self.scanner = XMLScanner(input: file, name: name, limits: limits)
    }

    func next() throws(FormatError) -> Feature? {
        while true {
            if pass == .held {
                guard heldIndex < held.count else { pass = .done; held = []; return nil }
                heldIndex += 1
                return held[heldIndex - 1]
            }
            if pass == .done { return nil }
            switch try scanner.next() {
            case let .start(element, _, attributes, selfClosing):
                if !sawRoot {
                    sawRoot = true
                    guard element == "gpx" else { throw FormatError.unsupported(file: name, message: "root element is <\(element)>, not <gpx>") }
                    prefixes = Set(attributes.filter { $0.prefix == "xmlns" && ($0.value == "http://www.topografix.com/GPX/1/1" || $0.value == "http://www.topografix.com/GPX/1/0") }.map(\.name))
                    continue
                }
                let topLevel = selfClosing ? scanner.depth == 1 : scanner.depth == 2
                guard topLevel else { continue }
                if let f = try topLevelElement(element, attributes, selfClosing) { return f }
            case .end, .text:
                continue
            case .endOfDocument:
                try endOfPass()
            }
        }
    }

    private func topLevelElement(_ element: String, _ attributes: [XMLAttribute], _ selfClosing: Bool) throws(FormatError) -> Feature? {
        let line = scanner.line
        switch (element, pass) {
        case ("trk", .tracks):
            return try readLine(kind: "trk", attributes, selfClosing, line: line)
        case ("rte", .tracks):
            sawRoutes = true
            if overflow { break }
            if let f = try readLine(kind: "rte", attributes, selfClosing, line: line) { hold(f, route: true) }
            return nil
        case ("rte", .routes):
            return try readLine(kind: "rte", attributes, selfClosing, line: line)
        case ("wpt", .tracks):
            sawWaypoints = true
            if overflow { break }
            if let f = try readWaypoint(attributes, selfClosing, line: line) { hold(f, route: false) }
            return nil
        case ("wpt", .waypoints):
            return try readWaypoint(attributes, selfClosing, line: line)
        case ("trk", _), ("rte", _), ("wpt", _):
            elementIndex += 1
        default:
            break
        }
        try skip(selfClosing)
        return nil
    }

    private func hold(_ f: Feature, route: Bool) {
        guard !overflow else { return }
        if route { heldRoutes.append(f) } else { heldWaypoints.append(f) }
        if heldRoutes.count + heldWaypoints.count > maxHeldFeatures {
            overflow = true
            heldRoutes = []
            heldWaypoints = []
        }
    }

    private func endOfPass() throws(FormatError) {
        switch pass {
        case .tracks where !overflow:
            held = heldRoutes + heldWaypoints
            heldRoutes = []
            heldWaypoints = []
            pass = .held
            return
        case .tracks where sawRoutes:
            pass = .routes
        case .tracks, .routes:
            pass = sawWaypoints ? .waypoints : .done
        default:
            pass = .done
        }
        guard pass != .done else { return }
        file.rewind()
        scanner = XMLScanner(input: file, name: name, limits: limits)
        sawRoot = false
        elementIndex = 0
    }

    private func skip(_ selfClosing: Bool) throws(FormatError) {
        if selfClosing { _ = try scanner.next(); return }
        let depth = scanner.depth
        while true {
            if case .end = try scanner.next(), scanner.depth < depth { return }
        }
    }

    private func build(_ element: String, _ prefix: String, _ attributes: [XMLAttribute], _ selfClosing: Bool) throws(FormatError) -> XMLNode {
        try XMLNode.read(scanner, maxBytes: limits.maxFeatureBytes)
    }

    private func skipped(_ index: Int, line: Int, _ error: FormatError) -> Feature? {
        warningLog.append(.feature(index, line: line, "\(error.reason); skipped"))
        return nil
    }

    private func readWaypoint(_ attributes: [XMLAttribute], _ selfClosing: Bool, line: Int) throws(FormatError) -> Feature? {
        let index = elementIndex
        elementIndex += 1
        let node = try build("wpt", "", attributes, selfClosing)
        var props = GPXProperties(gpxPrefixes: prefixes)
        props.visitChildren(of: node)
        var p = props.properties(gpxType: nil, lineStyle: false)
        if let sym = node.value("sym"), !sym.isEmpty { p["sym"] = .string(sym) }
        do throws(FormatError) {
            guard let position = try GPXPoint(node).position else {
                throw GeoJSONCoding.invalid("wpt has no numeric lat/lon attributes")
            }
            return Feature(geometry: .point(position), properties: p)
        } catch {
            return skipped(index, line: line, error)
        }
    }

    /// One segment while it streams: valid positions, their times, and extension arrays
    /// indexed by point (nil where a point lacks the value).
    private struct Segment {
        var positions: [Position] = []
        var times: [String] = []
        var pointCount = 0
        var values: [(key: String, values: [JSONValue])] = []

        mutating func add(_ point: GPXPoint) {
            defer { pointCount += 1 }
            guard let p = point.position else { return }
            positions.append(p)
            if let t = point.time { times.append(t) }
            for (name, value) in point.extensionValues {
                let key = GPXPoint.pluralKey(name)
                let slot: Int
                if let i = values.firstIndex(where: { $0.key == key }) { slot = i } else {
                    values.append((key, []))
                    slot = values.count - 1
                }
                while values[slot].values.count < pointCount { values[slot].values.append(.null) }
                values[slot].values.append(value)
            }
        }

        /// Pads every extension array to the segment's point count.
        mutating func close() {
            for i in values.indices {
                while values[i].values.count < pointCount { values[i].values.append(.null) }
            }
        }
    }

    /// Streams a `trk` or `rte` point by point.
    private func readLine(kind: String, _ attributes: [XMLAttribute], _ selfClosing: Bool, line: Int) throws(FormatError) -> Feature? {
        let index = elementIndex
        elementIndex += 1
        if selfClosing { try skip(true); return nil }
        let depth = scanner.depth
        let pointName = kind == "trk" ? "trkpt" : "rtept"
        var props = GPXProperties(gpxPrefixes: prefixes)
        var segments: [Segment] = []
        var current: Segment? = kind == "rte" ? Segment() : nil
        var failure: FormatError?
        loop: while true {
            switch try scanner.next() {
            case let .start(element, prefix, attrs, sc):
                if element == pointName {
                    let node = try build(element, prefix, attrs, sc)
                    props.visitChildren(of: node)
                    do throws(FormatError) {
                        let point = try GPXPoint(node)
                        if current == nil { current = Segment() }
                        current!.add(point)
                    } catch {
                        if failure == nil { failure = error }
                    }
                } else if element == "trkseg" {
                    if let c = current { segments.append(c) }
                    current = Segment()
                } else if element != "extensions" {
                    props.visit(try build(element, prefix, attrs, sc))
                }
            case .end:
                if scanner.depth < depth { break loop }
            case .text:
                continue
            case .endOfDocument:
                throw scanner.error("unexpected end of document inside <\(kind)>")
            }
        }
        if let c = current { segments.append(c) }
        if let failure { return skipped(index, line: line, failure) }
        segments = segments.filter { $0.positions.count >= 2 }
        for i in segments.indices { segments[i].close() }
        guard !segments.isEmpty else { return nil }
        var p = props.properties(gpxType: kind, lineStyle: true)
        if kind == "rte" {
            return Feature(geometry: .lineString(segments[0].positions), properties: p)
        }
        let multi = segments.count > 1
        var cp = JSONObject()
        let times = segments.filter { !$0.times.isEmpty }.map { JSONValue.array($0.times.map { .string($0) }) }
        if !times.isEmpty { cp["times"] = multi ? .array(times) : times[0] }
        for (lineIndex, segment) in segments.enumerated() {
            for (key, values) in segment.values {
                if multi {
                    var all = cp[key]?.arrayValue ?? segments.map { .array(Array(repeating: .null, count: $0.pointCount)) }
                    all[lineIndex] = .array(values)
                    cp[key] = .array(all)
                } else {
                    cp[key] = .array(values)
                }
            }
        }
        p["coordinateProperties"] = .object(cp)
        let geometry: Geometry = multi ? .multiLineString(segments.map(\.positions)) : .lineString(segments[0].positions)
        return Feature(geometry: geometry, properties: p)
    }
}
