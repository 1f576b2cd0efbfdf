import API
import Foundation
import Storage
import SystemSupport

/// MapTiler ingest (seeds/000): the ingest row exists from `create` on (`state = upload`); the
/// file arrives in chunks into `drop/<map>/.upload-<id>.part`, which survives a dropped
/// connection and a restart; `process` claims it like a drop.
extension ServiceDesk: MapTilerBackend {
    func createIngest(filename: String, size: Int64, map: String?) throws -> IngestRecord {
        guard size > 0 else { throw ServiceError.invalid("size must be the file's size in bytes, more than 0") }
        guard size <= config.maxFileBytes else {
            throw ServiceError.tooLarge("\(filename) is \(size) bytes, more than max_file_size (\(config.maxFileBytes))")
        }
        let name = FileSystem.name(of: filename)
        guard !name.isEmpty, !name.hasPrefix("."), name.utf8.count <= 255, !name.utf8.contains(0) else {
            throw ServiceError.invalid("filename '\(filename)' is not usable: give the file's plain name, such as trails.mbtiles")
        }
        let target = map ?? ServiceDesk.tilesetName(forFile: name)
        try checkName(target, what: "tileset")
        let id = UUID().uuidString.lowercased()
        let now = epochMilliseconds()
        let key = UploadNames.newKey()
        let part = config.dropDir + "/" + target + "/" + UploadNames.part(id: id, key: key)
        let record = IngestRecord(id: id, map: target, group: nil, filename: name, size: size, originalPath: part,
                                  workPath: paths.workPath(map: target, id: id, filename: name), createdAt: now, updatedAt: now)
        try fileSystem.createDirectories(config.dropDir + "/" + target)
        try createEmptyFile(part)
        do {
            try processor.register(record)
        } catch {
            try? fileSystem.remove(part)
            throw error
        }
        logger.info("ingest \(id): MapTiler upload of \(name) (\(size) bytes) into \(target) created")
        return record
    }

    /// A new tileset's name from its file name: the stem, with other characters turned into `-`.
    static func tilesetName(forFile name: String) -> String {
        let stem = name.split(separator: ".").first.map(String.init) ?? name
        let cleaned = String(stem.unicodeScalars.map { c -> Character in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_") ? Character(c) : "-"
        }.prefix(32))
        return cleaned.isEmpty ? "upload" : cleaned
    }

    func ingest(id: String) throws -> IngestRecord? {
        try database { db throws(StorageError) in try db.ingest(id: id) }
    }

    func uploadedBytes(ingest: IngestRecord) throws -> Int64 {
        guard ingest.state == .upload else { return ingest.size }
        return try fileSystem.status(ingest.originalPath)?.size ?? 0
    }

    func appendChunk(ingest: IngestRecord, start: Int64, length: Int64, write: (Int32) throws -> Void) throws -> Int64 {
        guard ingest.state == .upload else {
            throw ServiceError.conflict("ingest \(ingest.id) is \(ingest.state.rawValue); uploads are accepted only while it is in state upload")
        }
        let stored = try uploadedBytes(ingest: ingest)
        guard start <= stored else { throw ServiceError.rangeMismatch(received: stored) }
        guard start + length <= ingest.size else {
            throw ServiceError.invalid("the chunk ends at byte \(start + length), beyond the announced size \(ingest.size)")
        }
        let fd = try fileSystem.openRegularFileForWriting(ingest.originalPath)
        defer { close(fd) }
        // A chunk sent again after a lost answer overlaps what is stored: keep the new bytes.
        guard ftruncate(fd, off_t(start)) == 0, lseek(fd, off_t(start), SEEK_SET) >= 0 else {
            throw SystemError(call: "ftruncate", target: ingest.originalPath, errno: errno)
        }
        do {
            try write(fd)
        } catch {
            _ = ftruncate(fd, off_t(start))  // a broken chunk leaves nothing behind
            throw error
        }
        try FileSystem.sync(fd, target: ingest.originalPath)
        let total = try uploadedBytes(ingest: ingest)
        guard total == start + length else {
            _ = ftruncate(fd, off_t(start))
            throw ServiceError.invalid("the chunk held \(total - start) bytes, not the \(length) its Content-Range announced")
        }
        return total
    }

    func uploadKey(ingest: IngestRecord) -> String? {
        UploadNames.key(ofPart: ingest.originalPath)
    }

    func processIngest(id: String) throws -> IngestRecord {
        guard let record = try ingest(id: id) else { throw ServiceError.notFound("no ingest with id \(id)") }
        guard record.state == .upload else {
            throw ServiceError.conflict("ingest \(id) is already \(record.state.rawValue)")
        }
        let stored = try uploadedBytes(ingest: record)
        guard stored == record.size else {
            throw ServiceError.invalid("the upload is incomplete: \(stored) of \(record.size) bytes received; send the rest, then process")
        }
        // Recorded as processing before the worker claims it: from here a restart re-claims
        // the complete part file instead of waiting for more bytes.
        var processing = record
        processing.state = .processing
        processing.updatedAt = epochMilliseconds()
        let updated = processing
        try database { db throws(StorageError) in try db.updateIngest(updated) }
        let processor = self.processor
        ingestQueue.async { processor.claim(updated) }
        return updated
    }

    func cancelIngest(id: String) throws -> IngestRecord {
        guard var record = try ingest(id: id) else { throw ServiceError.notFound("no ingest with id \(id)") }
        guard !record.state.isFinished else {
            throw ServiceError.conflict("ingest \(id) is already \(record.state.rawValue); only unfinished ingests can be canceled")
        }
        let claimed = try fileSystem.status(record.workPath) != nil
        if record.state == .upload && !claimed {
            try fileSystem.remove(record.originalPath)
            record.state = .canceled
            record.errors = ["canceled by request"]
            record.updatedAt = epochMilliseconds()
            let updated = record
            try database { db throws(StorageError) in try db.updateIngest(updated) }
        } else {
            _ = cancellations.insert(id)
        }
        logger.info("ingest \(id): cancellation requested through the API")
        return record
    }

    func documentName(_ documentID: String) throws -> String? {
        let lower = documentID.lowercased()
        let byUUID = try database { db throws(StorageError) -> String? in
            if let t = try db.tileset(uuid: lower) { return t.id }
            return try db.map(uuid: lower)?.id
        }
        if let byUUID { return byUUID }
        guard DropNames.isValidMapName(documentID) else { return nil }
        let isMap = try maps().contains { $0.id == documentID }
        let tilesFile = try fileSystem.status(paths.tileset(documentID))
        return isMap || tilesFile != nil ? documentID : nil
    }

    func documentID(map: String) throws -> String {
        try database { db throws(StorageError) -> String in
            if let m = try db.maps().first(where: { $0.id == map }), !m.uuid.isEmpty { return m.uuid }
            let now = epochMilliseconds()
            return try db.ensureTileset(TilesetRecord(id: map, name: map, isPrivate: false, created: now, modified: now)).uuid
        }
    }
}
