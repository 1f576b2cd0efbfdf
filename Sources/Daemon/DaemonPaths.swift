import SystemSupport

/// Where each stage keeps its files under the root (README "Folder layout").
struct DaemonPaths: Sendable {
    let config: DaemonConfig

    /// The hidden work folder inside the map's drop folder (named by its folder name, not its id).
    func workFolder(folder: String) -> String { config.dropDir + "/" + folder + "/" + DropNames.workFolder }
    func workPath(folder: String, id: String, filename: String) -> String { workFolder(folder: folder) + "/" + id + "--" + filename }
    /// For API uploads, which land in `drop/<map id>/`.
    func workPath(map: String, id: String, filename: String) -> String { workPath(folder: map, id: id, filename: filename) }
    func sourceFolder(map: String) -> String { config.sourcesDir + "/" + map }
    func sourceFile(map: String, id: String) -> String { sourceFolder(map: map) + "/" + id + ".geojsonl" }
    func temporarySourceFile(map: String, id: String) -> String { sourceFolder(map: map) + "/." + id + ".geojsonl.tmp" }
    func archiveFolder(map: String) -> String { config.archiveDir + "/" + map }
    func failedFolder(map: String) -> String { config.failedDir + "/" + map }
    func quarantineFolder(map: String) -> String { config.quarantineDir + "/" + map }
    func tileset(_ name: String) -> String { config.tilesDir + "/" + name + ".mbtiles" }
    func recipe(_ tileset: String) -> String { config.recipesDir + "/" + tileset + ".json" }

    /// `folder/name`, or `folder/name.1`, `.2`, … when taken, so nothing is overwritten.
    func unusedPath(in folder: String, name: String, fileSystem: FileSystem) -> String {
        var candidate = folder + "/" + name
        var n = 1
        while (try? fileSystem.status(candidate)) != nil || (try? fileSystem.status(candidate + ".error.json")) != nil {
            let dot = name.lastIndex(of: ".").map { name.distance(from: name.startIndex, to: $0) } ?? name.count
            let base = String(name.prefix(dot))
            let ext = String(name.dropFirst(dot))
            candidate = folder + "/" + base + "." + String(n) + ext
            n += 1
        }
        return candidate
    }
}
