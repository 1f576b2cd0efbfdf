import Formats
import Storage
import SystemSupport

/// How a changeset finds and removes the features it names (issue 13): through the map's
/// spatial index (`SourceIndexer`), reading only the lines it changes.
extension ServiceDesk {
    var indexer: SourceIndexer { SourceIndexer(paths: paths, store: store, logger: logger) }

    /// The map's features whose GeoJSON `id` is one of `keys`, looked up in the index; when
    /// the index cannot be used, found by reading the map's lines (the same answer, slower).
    func changesetHits(map: String, files: [String], keys: Set<String>) throws -> [SourceIndex.Hit] {
        do {
            let index = try indexer.synchronize(map: map, files: files, pruning: false)
            let listed = Set(files.map(FileSystem.name(of:)))
            return try index.entries(withKeys: keys).filter { listed.contains($0.file) }
        } catch {
            logger.warning("map \(map): the source index could not be used (\(error)); the changeset's ids are looked up by reading the source")
        }
        var hits: [SourceIndex.Hit] = []
        for path in files {
            let reader = try SourceLineReader(path: path)
            while let line = try reader.next() {
                let entry = SourceIndexer.entry(line)
                if let key = entry.key, keys.contains(key) { hits.append(SourceIndex.Hit(file: FileSystem.name(of: path), entry: entry)) }
            }
        }
        return hits
    }

    /// Writes the lines of `files`, in order, to `fd` — all but the lines `hits` name, byte for
    /// byte (so every kept feature keeps its id and its exact text).
    func copyKeeping(_ files: [String], without hits: [SourceIndex.Hit], to fd: Int32, name: String) throws {
        let chunk: Int64 = 1 << 20
        for path in files {
            let file = try SourceFile(path: path)
            let skipped = hits.filter { $0.file == FileSystem.name(of: path) }.map(\.entry).sorted { $0.offset < $1.offset }
            var position: Int64 = 0
            var gaps: [(Int64, Int64)] = []
            for e in skipped {
                gaps.append((position, e.offset))
                position = e.offset + Int64(e.length) + 1
            }
            gaps.append((position, file.size))
            for (from, to) in gaps where to > from {
                var at = from
                while at < to {
                    let bytes = try file.bytes(at: at, count: Int(min(chunk, to - at)))
                    guard !bytes.isEmpty else { break }
                    try FileSystem.writeAll(fd, bytes, target: name)
                    at += Int64(bytes.count)
                }
            }
            // A last line without its "\n" must not run into the next file's first line.
            if file.size > 0, try file.bytes(at: file.size - 1, count: 1) != [0x0A], position < file.size {
                try FileSystem.writeAll(fd, [0x0A], target: name)
            }
        }
    }
}
