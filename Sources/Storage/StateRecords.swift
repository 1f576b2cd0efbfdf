#if canImport(Glibc)
import Glibc
#endif
import GeoModel

/// The MapTiler `TilesetIngest` states (seeds/000): upload → processing → completed | failed | canceled.
public enum IngestState: String, Sendable, CaseIterable {
    case upload, processing, completed, canceled, failed

    public var isFinished: Bool { self == .completed || self == .canceled || self == .failed }
}

/// One dropped file's journey, shaped like MapTiler's `TilesetIngest` plus tiledrop's bookkeeping.
///
/// `document_id` is the map (tileset source) the file is appended to. `workPath` is where the
/// claimed file lives while it is processed; `sourceFile` is the line-delimited GeoJSON file
/// it became. The row with `state = completed` and `sourceFile` set is the point of no return.
public struct IngestRecord: Sendable, Equatable {
    public var id: String
    public var map: String
    public var group: String?
    public var filename: String
    public var size: Int64
    public var state: IngestState
    public var progress: Double
    public var errors: [String]
    public var warnings: [String]
    public var sha256: String?
    public var originalPath: String
    public var workPath: String
    public var sourceFile: String?
    public var featureCount: Int?
    /// What to do with the source: append (default) or replace the map's source.
    public var mode: String
    public var createdAt: Int64
    public var updatedAt: Int64
    /// How many times processing started; a file that keeps killing the daemon is failed after 3.
    public var attempts: Int

    public init(id: String, map: String, group: String?, filename: String, size: Int64, state: IngestState = .upload,
                progress: Double = 0, errors: [String] = [], warnings: [String] = [], sha256: String? = nil,
                originalPath: String, workPath: String, sourceFile: String? = nil, featureCount: Int? = nil,
                mode: String = "append", createdAt: Int64, updatedAt: Int64, attempts: Int = 0) {
        self.id = id
        self.map = map
        self.group = group
        self.filename = filename
        self.size = size
        self.state = state
        self.progress = progress
        self.errors = errors
        self.warnings = warnings
        self.sha256 = sha256
        self.originalPath = originalPath
        self.workPath = workPath
        self.sourceFile = sourceFile
        self.featureCount = featureCount
        self.mode = mode
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.attempts = attempts
    }

    /// The record as the API returns it: MapTiler's field names first.
    public var jsonValue: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["document_id"] = .string(map)
        o["state"] = .string(state.rawValue)
        o["filename"] = .string(filename)
        o["size"] = .int(size)
        o["errors"] = .array(errors.map { ["message": .string($0)] })
        o["progress"] = .double(progress)
        o["warnings"] = .array(warnings.map { ["message": .string($0)] })
        o["map"] = .string(map)
        o["group"] = group.map(JSONValue.string) ?? .null
        o["mode"] = .string(mode)
        o["sha256"] = sha256.map(JSONValue.string) ?? .null
        o["feature_count"] = featureCount.map { .int(Int64($0)) } ?? .null
        o["source_file"] = sourceFile.map(JSONValue.string) ?? .null
        o["created"] = .int(createdAt)
        o["updated"] = .int(updatedAt)
        o["attempts"] = .int(Int64(attempts))
        return .object(o)
    }
}

/// The MTS publish job stages (seeds/001).
public enum JobStage: String, Sendable, CaseIterable {
    case queued, processing, success, failed
}

/// A publish job, with MTS's job object fields.
public struct PublishJobRecord: Sendable, Equatable {
    public var id: String
    public var tileset: String
    public var stage: JobStage
    public var created: Int64
    public var published: Int64?
    public var errors: [String]
    public var warnings: [String]
    /// The `layer_stats` object as JSON text (empty until the job succeeds).
    public var layerStats: String?
    /// How many times the job started running; a job that keeps killing the daemon fails after 3.
    public var attempts: Int
    /// The `after_publish` hook results as JSON text (an array, one element per file), or nil
    /// when no hook ran.
    public var afterPublish: String?
    /// The recipe the job ran with, as JSON text (MTS `recipe`); nil until it starts.
    public var recipe: String?
    /// What the publish held in memory, as JSON text (`TilingMemoryReport.json`: budget, tiler
    /// peak, process peak RSS, spilled bytes, bands); nil until the job succeeds. Not an MTS
    /// field (MTS reports no memory); tiledrop adds it as `memory` on the job object.
    public var memory: String?

    public init(id: String, tileset: String, stage: JobStage, created: Int64, published: Int64? = nil,
                errors: [String] = [], warnings: [String] = [], layerStats: String? = nil, attempts: Int = 0,
                afterPublish: String? = nil, recipe: String? = nil, memory: String? = nil) {
        self.id = id
        self.tileset = tileset
        self.stage = stage
        self.created = created
        self.published = published
        self.errors = errors
        self.warnings = warnings
        self.layerStats = layerStats
        self.attempts = attempts
        self.afterPublish = afterPublish
        self.recipe = recipe
        self.memory = memory
    }

    public var jsonValue: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        o["stage"] = .string(stage.rawValue)
        o["created"] = .int(created)
        o["created_nice"] = .string(HTTPDate.format(milliseconds: created))
        o["published"] = published.map(JSONValue.int) ?? .null
        o["tilesetId"] = .string(tileset)
        o["errors"] = .array(errors.map(JSONValue.string))
        o["warnings"] = .array(warnings.map(JSONValue.string))
        if let stats = layerStats, let v = try? JSONParser.parse(stats) { o["layer_stats"] = v } else { o["layer_stats"] = .object(JSONObject()) }
        if let hook = afterPublish, let v = try? JSONParser.parse(hook) { o["after_publish"] = v }
        if let recipe, let v = try? JSONParser.parse(recipe) { o["recipe"] = v }
        if let memory, let v = try? JSONParser.parse(memory) { o["memory"] = v }
        return .object(o)
    }
}

/// A map (MapHub's map object, seeds/004): a drop folder and the tileset source it feeds.
public struct MapRecord: Sendable, Equatable {
    public var id: String
    public var title: String
    public var shortName: String
    public var owner: String
    public var visibility: String
    public var groups: [String]
    /// Stable random UUID, MapTiler's `document_id` for the map (empty until recorded).
    public var uuid: String

    public init(id: String, title: String, shortName: String, owner: String, visibility: String = "private", groups: [String] = [],
                uuid: String = "") {
        self.id = id
        self.uuid = uuid
        self.title = title
        self.shortName = shortName
        self.owner = owner
        self.visibility = visibility
        self.groups = groups
    }
}

/// Formats timestamps the way MTS's `created_nice` does ("Wed Jun 19 2019 22:05:02 GMT+0000 (UTC)").
public enum HTTPDate {
    public static func format(milliseconds: Int64) -> String {
        utc(seconds: milliseconds / 1000, "%a %b %d %Y %H:%M:%S GMT+0000 (UTC)")
    }

    /// `strftime(3)` of a Unix time in UTC (C locale names).
    public static func utc(seconds: Int64, _ format: String) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 128)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
