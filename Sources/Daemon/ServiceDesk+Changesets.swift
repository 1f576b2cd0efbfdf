import API
import Foundation
import Formats
import GeoModel
import Storage
import SystemSupport
import Tiling

/// MTS changesets (`POST /tilesets/v1/{tileset}/publish-changesets`): line-delimited GeoJSON
/// where each line is a feature with an `id` (an upsert) or `{"id": …, "delete": true}`.
///
/// A changeset whose ids are all new is an append: it lands as one more source file and the
/// publish is incremental. One that deletes, or replaces a feature the map holds, rewrites the
/// map's source without those ids (the upserts at the end) as a `rewrite` ingest, which a full
/// rebuild follows; the features kept, and each upsert that replaces a feature, keep their
/// stable ids (`tiledrop_id`). Either way it enters through the drop area like any upload.
/// The features a changeset names are found through the map's spatial index
/// (`ServiceDesk+SourceIndex`), not by reading the map.
extension ServiceDesk {
    /// Largest changeset read into memory.
    static let maxChangesetBytes = 64 << 20

    struct Changeset {
        /// Upsert lines by id key, in the order they were given (the last line of an id wins).
        var upserts: [(key: String, line: Substring)] = []
        var deletes: Set<String> = []
        var keys: Set<String> { Set(upserts.map(\.key)).union(deletes) }
    }

    /// Reads and checks a changeset; every problem names its line.
    static func parseChangeset(_ bytes: [UInt8]) throws -> Changeset {
        var c = Changeset()
        var index: [String: Int] = [:]
        let text = String(decoding: bytes, as: UTF8.self)
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            guard !line.isEmpty else { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(String(line)) } catch {
                throw ServiceError.invalid("changeset line \(n + 1): not JSON (\(error)); each line is one GeoJSON feature or {\"id\": …, \"delete\": true}")
            }
            guard let o = value.objectValue, let id = o["id"], id.stringValue != nil || id.intValue != nil else {
                throw ServiceError.invalid("changeset line \(n + 1): every line needs an \"id\" (a number or a string) naming the feature it adds, replaces or deletes")
            }
            let key = JSONWriter.string(id)
            if o["delete"]?.boolValue == true {
                if let i = index.removeValue(forKey: key) { c.upserts[i].key = "" }
                c.deletes.insert(key)
                continue
            }
            guard o["type"]?.stringValue == "Feature" else {
                throw ServiceError.invalid("changeset line \(n + 1): feature \(key) is not a GeoJSON Feature (\"type\": \"Feature\") nor a delete ({\"id\": \(key), \"delete\": true})")
            }
            c.deletes.remove(key)
            if let i = index[key] { c.upserts[i].key = "" }
            index[key] = c.upserts.count
            c.upserts.append((key, line))
        }
        c.upserts.removeAll { $0.key.isEmpty }
        guard !c.upserts.isEmpty || !c.deletes.isEmpty else { throw ServiceError.invalid("the changeset is empty; send one feature or delete per line") }
        return c
    }

    /// Stages the changeset (`fill` writes it to the descriptor), applies it to the tileset's
    /// one map source and queues the publish.
    func publishChangeset(tileset: String, fill: (Int32, String) throws -> Void) throws -> ChangesetOutcome {
        guard let json = try recipe(tileset: tileset) else {
            throw ServiceError.notFound("no tileset \(tileset) (\(owner).\(tileset)); create it or drop data into map \(tileset) first")
        }
        let recipe = try Recipe(json: json)
        let maps = Set(recipe.layers.compactMap { TilesetSourceURI.map(from: $0.source) })
        guard maps.count == 1, let map = maps.first, recipe.layers.allSatisfy({ TilesetSourceURI.map(from: $0.source) != nil }) else {
            throw ServiceError.invalid("publish-changesets applies to a tileset whose layers all read one tileset source; \(tileset) reads \(maps.count) (\(maps.sorted().joined(separator: ", ")))")
        }
        let staged = try newStagingFile(map: map)
        defer { discardStaged(staged) }
        do {
            let fd = try fileSystem.openRegularFileForWriting(staged)
            defer { close(fd) }
            try fill(fd, staged)
        }
        let changeset = try ServiceDesk.parseChangeset(try fileSystem.readRegularFile(staged, maxBytes: ServiceDesk.maxChangesetBytes))
        // On the ingest queue from the lookup to the commit: no other ingest or compaction of the
        // map can slip in between, so the rewrite never drops a file appended meanwhile.
        let (record, present, append) = try ingestQueue.sync { () throws -> (IngestRecord, Int, Bool) in
            try applyChangeset(changeset, map: map)
        }
        guard record.state == .completed else {
            throw ServiceError.invalid("the changeset could not be ingested: \(record.errors.joined(separator: "; ")) (ingest \(record.id))")
        }
        // The ingest queued the tileset's job already (its source changed); a second request
        // would only add a rebuild with nothing new.
        let queued = try database { db throws(StorageError) in try db.jobs(tileset: tileset, limit: 1) }.first
        let job = try queued.flatMap { $0.created >= record.updatedAt ? $0.id : nil } ?? publish(tileset: tileset)
        logger.info("tileset \(tileset): changeset with \(changeset.upserts.count) upsert(s) and \(changeset.deletes.count) delete(s) "
                    + (append ? "appended to map \(map)" : "rewrote map \(map) (\(present) feature(s) replaced or deleted)") + "; job \(job)")
        return ChangesetOutcome(jobID: job, upserts: changeset.upserts.count, deletes: changeset.deletes.count, replaced: present, appended: append)
    }

    /// Finds the changeset's ids in the map (its index), writes the new source file and ingests
    /// it; runs on the ingest queue. Returns the ingest, the features found, and whether it
    /// was an append.
    private func applyChangeset(_ changeset: Changeset, map: String) throws -> (IngestRecord, Int, Bool) {
        let files = try database { db throws(StorageError) in try db.sourceFiles(map: map) }
        let hits = try changesetHits(map: map, files: files, keys: changeset.keys)
        let present = hits.count
        // Deleting an id the map does not hold changes nothing.
        let append = present == 0
        let out = try newStagingFile(map: map)
        do {
            let fd = try fileSystem.openRegularFileForWriting(out)
            defer { close(fd) }
            var bytes: [UInt8] = []
            if append {
                for u in changeset.upserts {
                    bytes.append(contentsOf: u.line.utf8)
                    bytes.append(0x0A)
                }
            } else {
                try copyKeeping(files, without: hits, to: fd, name: out)
                // An upsert that replaces a feature keeps its stable id; a new one gets the next.
                var ids: [String: Int64] = [:]
                for h in hits { if let key = h.entry.key, let id = h.entry.sourceID, ids[key] == nil { ids[key] = id } }
                for u in changeset.upserts {
                    var f: Feature
                    do { f = try GeoJSONCoding.feature(from: JSONParser.parse(String(u.line))) } catch {
                        throw ServiceError.invalid("changeset feature \(u.key): \(error); send a valid GeoJSON Feature")
                    }
                    f.sourceID = ids[u.key]
                    var w = JSONWriter()
                    GeoJSONCoding.encode(f, into: &w)
                    bytes.append(contentsOf: w.bytes)
                    bytes.append(0x0A)
                }
            }
            try FileSystem.writeAll(fd, bytes, target: out)
            try FileSystem.sync(fd, target: out)
        } catch {
            discardStaged(out)
            throw error
        }
        let record = try ingestStaged(out, map: map, filename: "changeset.geojsonl", group: nil, mode: append ? .append : .rewrite, onIngestQueue: true)
        return (record, present, append)
    }
}
