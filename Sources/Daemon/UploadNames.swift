import SystemSupport

/// Hidden names of API uploads inside `drop/<map>/` (never read by the watcher: they start with a dot).
///
/// `.upload-<id>.staged` is a complete upload (MTS source, MapHub append) about to be claimed;
/// `.upload-<id>.<key>.part` is a resumable MapTiler upload still arriving, kept across restarts.
enum UploadNames {
    /// `newFolder`: the upload created `drop/<map>/`, so discarding it removes the folder again.
    static func staged(id: String, newFolder: Bool = false) -> String { ".upload-" + id + (newFolder ? ".new" : "") + ".staged" }

    static func createdFolder(_ path: String) -> Bool { FileSystem.name(of: path).hasSuffix(".new.staged") }
    /// `key` is the secret of the upload URL (128 random bits, hex): only who created the
    /// ingest knows it, and it survives a restart in the file name the record keeps.
    static func part(id: String, key: String) -> String { ".upload-" + id + "." + key + ".part" }

    static func newKey() -> String {
        (0..<4).map { _ in
            let hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            return String(repeating: "0", count: 8 - hex.count) + hex
        }.joined()
    }

    /// The key in a part file's name.
    static func key(ofPart path: String) -> String? {
        let name = FileSystem.name(of: path)
        guard isResumablePart(path) else { return nil }
        let pieces = name.dropLast(5).split(separator: ".")
        guard let last = pieces.last, last.count == 32 else { return nil }
        return String(last)
    }

    /// True for both kinds of upload file name.
    static func isUpload(_ name: String) -> Bool {
        name.hasPrefix(".upload-") && (name.hasSuffix(".staged") || name.hasSuffix(".part"))
    }

    static func isResumablePart(_ path: String) -> Bool {
        let name = FileSystem.name(of: path)
        return name.hasPrefix(".upload-") && name.hasSuffix(".part")
    }
}
