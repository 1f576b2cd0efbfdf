import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Streams features out of KML 2.1/2.2 (with gx extensions), from a .kml file or a KMZ entry.
///
/// `KMLElementReader` tokenizes the document (`XMLScanner`) and builds a small `XMLNode`
/// tree for each Placemark, GroundOverlay or NetworkLink — on a second thread
/// (`KMLPrefetch`) when one can be started — and this reader converts the trees in
/// document order with togeojson's conventions (`KMLPlacemark`). Shared `<Style>`/`<StyleMap>` and `<Schema>` definitions are remembered
/// as they stream past, so a `styleUrl` resolves against styles defined earlier in the
/// file (Google Earth, My Maps, GDAL and QGIS all write styles first). `<Folder>` nesting
/// becomes the `@folder` property and `groups` (see `FeatureGroup`). Namespace prefixes
/// (`kml:`, `gx:`) are ignored, so KML 2.1, 2.2 and prefixed documents read alike.
final class KMLReader: FeatureReader {
    let format: InputFormat
    private var warningLog: WarningLog
    var warnings: [FormatWarning] { warningLog.list }
    private(set) var groups: [FeatureGroup] = []
    var bytesRead: Int { prefetch?.bytesRead ?? elements.bytesRead }

    private let elements: KMLElementReader
    /// Runs `elements` on a second thread when one can be started.
    private let prefetch: KMLPrefetch?
    private var styles = KMLStyleTable()
    private var schema: [String: String] = [:]
    private var knownGroups: Set<String> = []
    private var featureIndex = 0

    init(input: ByteInput, name: String, limits: ReaderLimits, format: InputFormat) {
        warningLog = WarningLog(limit: limits.maxWarnings)
        self.elements = KMLElementReader(input: input, name: name, limits: limits)
        self.prefetch = KMLPrefetch(elements)
        self.format = format
    }

    deinit { prefetch?.stop() }

    func next() throws(FormatError) -> Feature? {
        while true {
            let element = if let prefetch { try prefetch.next() } else { try elements.next() }
            switch element {
            case let .feature(node, line, folder):
                if let f = convert(node, line: line, folder: folder) { return f }
            case .style(let node):
                styles.register(node)
            case .schema(let node):
                for field in node.all("SimpleField") {
                    if let n = field.attribute("name") { schema[n] = field.attribute("type") ?? "string" }
                }
            case .end:
                return nil
            }
        }
    }

    private func convert(_ node: XMLNode, line: Int, folder: String?) -> Feature? {
        let index = featureIndex
        featureIndex += 1
        do throws(FormatError) {
            var notes: [String] = []
            var feature = try KMLPlacemark.feature(from: node, styles: styles, schema: schema, notes: &notes)
            for n in notes { warningLog.append(.feature(index, line: line, n)) }
            if let path = folder {
                feature.properties[FeatureGroup.folderProperty] = .string(path)
                if knownGroups.insert(path).inserted { groups.append(FeatureGroup(id: .string(path), title: path)) }
            }
            return feature
        } catch {
            warningLog.append(.feature(index, line: line, "<\(node.name)> \(error.reason); skipped"))
            return nil
        }
    }
}

/// Runs a `KMLElementReader` on its own thread, a few elements ahead of the converter.
///
/// Elements cross in a `BoundedQueue` of batches, so memory stays bounded; a parse error is
/// handed over in order and rethrown by `next()`; `stop()` ends the thread early.
final class KMLPrefetch: @unchecked Sendable {
    // @unchecked: after init, the thread only touches `queue` (itself thread-safe); the
    // other members belong to the consumer.
    private typealias Item = Result<KMLElementReader.Element, FormatError>
    /// Elements travel in batches (up to 1024 elements or 1 MB of source each) so the two
    /// threads synchronise (and context-switch) rarely; at most 2 batches wait in the queue.
    private let queue = BoundedQueue<(items: [Item], bytesRead: Int)>(capacity: 2, maxCost: 4 << 20)
    private let thread: pthread_t
    private var batch: [Item] = []
    private var nextInBatch = 0
    private var finished = false
    private(set) var bytesRead = 0

    init?(_ elements: KMLElementReader) {
        let queue = self.queue
        guard let thread = WorkerThread.start({
            var before = elements.bytesRead
            var batch: [Item] = []
            while true {
                let item: Item
                do throws(FormatError) { item = .success(try elements.next()) } catch { item = .failure(error) }
                batch.append(item)
                var last = false
                if case .success(.end) = item { last = true }
                if case .failure = item { last = true }
                let after = elements.bytesRead
                if last || batch.count >= 1024 || after - before >= 1 << 20 {
                    guard queue.put((batch, after), cost: after - before), !last else { return }
                    batch = []
                    batch.reserveCapacity(1024)
                    before = after
                }
            }
        }) else { return nil }
        self.thread = thread
    }

    /// The next element (waiting for the thread); after `.end` or an error, `.end` again.
    func next() throws(FormatError) -> KMLElementReader.Element {
        if nextInBatch == batch.count {
            guard !finished, let (items, bytes) = queue.take() else { return .end }
            batch = items
            nextInBatch = 0
            bytesRead = bytes
        }
        // Move the element out (no reference counting for the copy left behind).
        var item = Item.success(.end)
        swap(&item, &batch[nextInBatch])
        nextInBatch += 1
        switch item {
        case .success(let e):
            if case .end = e { finished = true }
            return e
        case .failure(let error):
            finished = true
            throw error
        }
    }

    /// Ends the thread (it may be blocked on a full queue) and waits for it.
    func stop() {
        queue.close()
        WorkerThread.join(thread)
    }
}

/// Shared styles met so far: `#id` → simplestyle properties; StyleMaps resolve to their
/// `normal` pair (KML 2.2 §12.11), looked up lazily so their order in the file does not matter.
struct KMLStyleTable {
    private var styles: [String: JSONObject] = [:]
    private var maps: [String: String] = [:]

    mutating func register(_ node: XMLNode) {
        guard let id = node.attribute("id"), !id.isEmpty else { return }
        if node.name == "StyleMap" {
            for pair in node.all("Pair") where pair.value("key")?.trimmed == "normal" {
                if let url = pair.value("styleUrl") { maps["#" + id] = Self.normalize(url) }
                if let inline = pair.child("Style") { styles["#" + id] = KMLStyle.properties(of: inline) }
                break
            }
        } else {
            styles["#" + id] = KMLStyle.properties(of: node)
        }
    }

    func lookup(_ url: String) -> JSONObject? {
        if let s = styles[url] { return s }
        var seen = 0
        var key = url
        while let target = maps[key], seen < 8 {
            if let s = styles[target] { return s }
            key = target
            seen += 1
        }
        return nil
    }

    /// `styleUrl` values are `#id` (or `file.kml#id`); a bare `id` means `#id`.
    static func normalize(_ url: String) -> String {
        let u = url.trimmed
        return u.hasPrefix("#") ? u : "#" + u
    }
}

extension String {
    /// The string without leading and trailing whitespace.
    var trimmed: String {
        // Fast path: nothing to trim when both ends are visible ASCII (the common case).
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F { return self }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
