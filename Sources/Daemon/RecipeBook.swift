import Foundation
import GeoModel
import SystemSupport
import Tiling

/// The daemon's view of `recipes/`: which tilesets have a valid recipe, which recipe files are
/// invalid and why, and what changed since the last look.
///
/// Recipe files are read defensively (issue 8): `O_NOFOLLOW | O_NONBLOCK` and a regular-file
/// check, at most 1 MiB, so a FIFO, symlink or device planted in the group-writable folder is
/// reported, never blocked on or followed. A daemon recipe may name file sources only inside the
/// root or a folder listed in `recipe_source_folders`, so writing a recipe cannot make the
/// daemon read arbitrary files. Errors are worded as `tiledrop validate-recipe` words them and
/// logged once per change of the file, not on every scan. A recipe that turns invalid keeps
/// its last valid version in use (the status says so) until it is fixed or removed.
/// Shared between threads behind a lock.
final class RecipeBook: @unchecked Sendable {
    /// One file's state: its content hash, the recipe when valid, the errors when not.
    struct Entry {
        var fingerprint: String
        var recipe: Recipe?
        var errors: [String]
    }

    /// What a `scan()` found changed.
    struct Changes {
        /// Tilesets whose recipe is new or changed and valid.
        var published: [String] = []
        /// Tilesets whose recipe file was removed.
        var removed: [String] = []
        var isEmpty: Bool { published.isEmpty && removed.isEmpty }
    }

    static let maxRecipeBytes = 1 << 20

    private let recipesDir: String
    private let root: String
    private let allowedFolders: [String]
    private let fileSystem: FileSystem
    private let logger: Logger
    private let lock = NSLock()
    /// Held for a whole `scan()`, so two threads never report the same change twice.
    private let scanLock = NSLock()
    private var entries: [String: Entry] = [:]
    /// The last valid recipe of each tileset, kept while its file is invalid.
    private var lastValid: [String: Recipe] = [:]

    init(config: DaemonConfig, fileSystem: FileSystem, logger: Logger) {
        recipesDir = config.recipesDir
        root = config.root
        allowedFolders = config.recipeSourceFolders
        self.fileSystem = fileSystem
        self.logger = logger
    }

    /// Re-reads every `recipes/*.json` and returns what changed since the previous scan.
    func scan() -> Changes {
        scanLock.lock()
        defer { scanLock.unlock() }
        var found: [String: Entry] = [:]
        for name in (try? fileSystem.list(recipesDir)) ?? [] where name.hasSuffix(".json") && !name.hasPrefix(".") {
            found[String(name.dropLast(5))] = read(name)
        }
        lock.lock()
        defer { lock.unlock() }
        var changes = Changes()
        for (tileset, entry) in found.sorted(by: { $0.key < $1.key }) where entries[tileset]?.fingerprint != entry.fingerprint {
            if let recipe = entry.recipe {
                lastValid[tileset] = recipe
                changes.published.append(tileset)
            } else {
                let kept = lastValid[tileset] != nil ? "; the last valid version stays in use" : ""
                logger.warning("recipes/\(tileset).json is invalid\(kept): \(entry.errors.joined(separator: "; ")). Check it with `tiledrop validate-recipe`")
            }
        }
        for tileset in entries.keys.sorted() where found[tileset] == nil {
            lastValid[tileset] = nil
            changes.removed.append(tileset)
        }
        entries = found
        return changes
    }

    /// The recipe in use for `tileset`: its valid file, or the last valid version of an invalid one.
    func recipe(for tileset: String) -> Recipe? {
        lock.lock()
        defer { lock.unlock() }
        return lastValid[tileset]
    }

    /// Tilesets with a recipe in use, by name.
    var recipes: [String: Recipe] {
        lock.lock()
        defer { lock.unlock() }
        return lastValid
    }

    /// Whether `recipes/<tileset>.json` exists (valid or not).
    func hasFile(_ tileset: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return entries[tileset] != nil
    }

    /// The tilesets whose recipe reads `map`'s source (empty when none does).
    func tilesets(using map: String) -> [String] {
        recipes.filter { $0.value.layers.contains { TilesetSourceURI.map(from: $0.source) == map } }.keys.sorted()
    }

    /// The status's `recipes`: one object per file, shaped like `validate-recipe`'s answer.
    var statusJSON: JSONValue {
        lock.lock()
        defer { lock.unlock() }
        return .array(entries.keys.sorted().map { tileset in
            let e = entries[tileset]!
            var o = JSONObject()
            o["tileset"] = .string(tileset)
            o["valid"] = .bool(e.recipe != nil)
            if e.recipe == nil {
                o["errors"] = .array(e.errors.map(JSONValue.string))
                o["in_use"] = .string(lastValid[tileset] != nil ? "last valid version" : "none")
            }
            return .object(o)
        })
    }

    /// Reads and checks one recipe file; never throws, never blocks.
    private func read(_ name: String) -> Entry {
        let path = recipesDir + "/" + name
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.readRegularFile(path, maxBytes: RecipeBook.maxRecipeBytes)
        } catch {
            let why = switch error.errno {
            case ELOOP: "recipes/\(name) is a symbolic link; copy the recipe itself into recipes/"
            case EINVAL: "recipes/\(name) is not a regular file (a FIFO, socket, device or folder); recipes must be regular files"
            case EFBIG: "recipes/\(name) is larger than 1 MiB; a recipe is a small JSON document"
            default: "recipes/\(name) cannot be read: \(error)"
            }
            // A file that cannot be read has no stable content: fingerprint the reason.
            return Entry(fingerprint: "unreadable: " + why, recipe: nil, errors: [why])
        }
        var hasher = SHA256()
        hasher.update(bytes)
        let fingerprint = hasher.finalize()
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            return Entry(fingerprint: fingerprint, recipe: nil, errors: ["recipe is not valid JSON: \(error)"])
        }
        let recipe: Recipe
        do { recipe = try Recipe(json: json) } catch {
            if case .invalidRecipe(let errors) = error { return Entry(fingerprint: fingerprint, recipe: nil, errors: errors) }
            return Entry(fingerprint: fingerprint, recipe: nil, errors: [error.description])
        }
        let sourceErrors = recipe.layers.compactMap { sourceError($0) }
        return Entry(fingerprint: fingerprint, recipe: sourceErrors.isEmpty ? recipe : nil, errors: sourceErrors)
    }

    /// Why a layer's source may not be read by the daemon, or nil when it may.
    func sourceError(_ layer: Recipe.Layer) -> String? {
        let p = "layers.\(layer.name).source"
        if TilesetSourceURI.map(from: layer.source) != nil { return nil }
        if layer.source.hasPrefix(TilesetSourceURI.prefix) || layer.source.hasPrefix(TilesetSourceURI.mapboxPrefix) {
            return "\(p): '\(layer.source)' does not name a map; use tiledrop://tileset-source/<map id> (see GET /v1/maps)"
        }
        if layer.source.contains("://") {
            return "\(p): '\(layer.source)' is not a source tiledrop can read; use tiledrop://tileset-source/<map> or a file path"
        }
        let path = Publisher.resolve(layer.source, relativeTo: recipesDir)
        guard let real = RecipeBook.realPath(path) else {
            return "\(p): file '\(layer.source)' does not exist (resolved as \(path))"
        }
        let folders = ([root] + allowedFolders).compactMap(RecipeBook.realPath)
        guard folders.contains(where: { real == $0 || real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            return "\(p): file '\(layer.source)' is outside the root and every folder in recipe_source_folders; the daemon reads file sources only there (add its folder to recipe_source_folders in the config, or drop the file into a map)"
        }
        guard (try? fileSystem.status(real))?.kind == .regular else {
            return "\(p): '\(layer.source)' is not a regular file"
        }
        return nil
    }

    /// `realpath(3)`: the canonical absolute path, or nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
