import SystemSupport

/// Hidden names of API uploads inside `drop/<map>/` (never read by the watcher: they start with a dot).
///
/// `.upload-<id>.staged` is a complete upload (MTS source, MapHub append) about to be claimed;
/// `.upload-<id>.part` is a resumable MapTiler upload still arriving, kept across restarts.
enum UploadNames {
    static func staged(id: String) -> String { ".upload-" + id + ".staged" }
    static func part(id: String) -> String { ".upload-" + id + ".part" }

    static func isResumablePart(_ path: String) -> Bool {
        let name = FileSystem.name(of: path)
        return name.hasPrefix(".upload-") && name.hasSuffix(".part")
    }
}
