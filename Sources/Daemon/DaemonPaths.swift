import Storage
import SystemSupport

/// Where each stage keeps its files under the root (README "Folder layout").
struct DaemonPaths: Sendable {
    let config: DaemonConfig

    /// The hidden work folder inside the map's drop folder (named by its folder name, not its id).
    func workFolder(folder: String) -> String { config.dropDir + "/" + folder + "/" + DropNames.workFolder }
    /// `<id>--<name>`, the name shortened so the whole stays within NAME_MAX (255 bytes).
    func workPath(folder: String, id: String, filename: String) -> String {
        workFolder(folder: folder) + "/" + id + "--" + DaemonPaths.fitted(filename, maxBytes: 255 - id.utf8.count - 2)
    }
    /// For API uploads, which land in `drop/<map id>/`.
    func workPath(map: String, id: String, filename: String) -> String { workPath(folder: map, id: id, filename: filename) }
    func sourceFolder(map: String) -> String { config.sourcesDir + "/" + map }
    func sourceFile(map: String, id: String) -> String { sourceFolder(map: map) + "/" + id + ".geojsonl" }
    func temporarySourceFile(map: String, id: String) -> String { sourceFolder(map: map) + "/." + id + ".geojsonl.tmp" }
    func archiveFolder(map: String) -> String { config.archiveDir + "/" + map }
    func failedFolder(map: String) -> String { config.failedDir + "/" + map }
    func quarantineFolder(map: String) -> String { config.quarantineDir + "/" + map }
    func tileset(_ name: String) -> String { config.tilesDir + "/" + name + ".mbtiles" }
    /// `tiles/<name>.mbtiles` or `tiles/<name>.pmtiles`.
    func tileset(_ name: String, format: TileArchiveFormat) -> String { config.tilesDir + "/" + name + "." + format.rawValue }
    func recipe(_ tileset: String) -> String { config.recipesDir + "/" + tileset + ".json" }

    /// The longest name given to files we place: NAME_MAX (255) less room for a `.N` counter and
    /// the `.error.json` report's temporary name beside it.
    static let maxNameBytes = 232

    /// `name` cut to at most `maxBytes` UTF-8 bytes at a character boundary, keeping a short
    /// extension (`<long stem>.geojson` → `<shorter stem>.geojson`).
    static func fitted(_ name: String, maxBytes: Int) -> String {
        guard name.utf8.count > maxBytes else { return name }
        var ext = ""
        if let dot = name.lastIndex(of: "."), dot != name.startIndex, name.utf8.distance(from: dot.samePosition(in: name.utf8)!, to: name.utf8.endIndex) <= 16 {
            ext = String(name[dot...])
        }
        var stem = ""
        for c in name.dropLast(ext.count) {
            if stem.utf8.count + c.utf8.count + ext.utf8.count > maxBytes { break }
            stem.append(c)
        }
        return stem + ext
    }

    /// `folder/name`, or `folder/name.1`, `.2`, … when taken, so nothing is overwritten. Names
    /// longer than `maxNameBytes` are shortened first.
    ///
    /// `reclaimsReport` is asked about a free name whose `.error.json` exists without its file:
    /// true when that report was written for the same file by a move a crash cut short, so the
    /// name is used again and the report replaced instead of being left an orphan.
    func unusedPath(in folder: String, name original: String, fileSystem: FileSystem,
                    reclaimsReport: (String) -> Bool = { _ in false }) -> String {
        let name = DaemonPaths.fitted(original, maxBytes: DaemonPaths.maxNameBytes)
        var candidate = folder + "/" + name
        var n = 1
        while (try? fileSystem.status(candidate)) != nil
            || ((try? fileSystem.status(candidate + ".error.json")) != nil && !reclaimsReport(candidate + ".error.json")) {
            let dot = name.lastIndex(of: ".").map { name.distance(from: name.startIndex, to: $0) } ?? name.count
            let base = String(name.prefix(dot))
            let ext = String(name.dropFirst(dot))
            candidate = folder + "/" + base + "." + String(n) + ext
            n += 1
        }
        return candidate
    }
}
