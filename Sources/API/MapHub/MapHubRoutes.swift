import GeoModel
import HTTP
import Storage

/// MapHub's "Append map" (seeds/004): `POST /api/1/map/append` with the arguments as JSON in
/// the `MapHub-API-Arg` header (`map_id`, `file_type` kml/gpx/geojson, optional `new_group`)
/// and the file as the raw body. The file is staged in `drop/<map_id>/` and ingested like a
/// drop into that map (as the group `new_group` when given); the answer is the map object.
/// Errors are `{"message": …}` beside the `error` MapHub clients print.
public struct MapHubRoutes: Sendable {
    let backend: any UploadBackend
    let access: AccessCheck

    public init(backend: any UploadBackend, access: @escaping AccessCheck) {
        self.backend = backend
        self.access = access
    }

    public func register(on router: inout Router) {
        router.post("/api/1/map/append", options: RouteOptions(maxBodyBytes: backend.maxUploadBytes, long: true)) { request in
            ServiceKit.handle(request, scope: "tilesets:write", access: self.access, shape: MapHubRoutes.error) { try self.append(request) }
        }
        router.setErrorShape(prefix: "/api/1/", MapHubRoutes.error)
    }

    static func error(_ status: Int, _ message: String) -> Response {
        JSONResponse.make(status, ["error": .string(message), "message": .string(message)])
    }

    /// The decoded `MapHub-API-Arg` header.
    struct Arguments: Equatable {
        var mapID: String
        var fileType: String
        var newGroup: String?

        init(header: String?) throws(HTTPError) {
            let usage = #"send the arguments as JSON in the MapHub-API-Arg header, e.g. {"map_id": "trails", "file_type": "kml"}"#
            guard let header, header.utf8.count <= 4096 else { throw HTTPError(400, usage) }
            let json: JSONValue
            do { json = try JSONParser.parse(header) } catch { throw HTTPError(400, "MapHub-API-Arg is not valid JSON (\(error)); \(usage)") }
            switch json["map_id"] {
            case .string(let s)?: mapID = s
            case .int(let n)?: mapID = String(n)
            default: throw HTTPError(400, "map_id is required; \(usage)")
            }
            guard MTSShapes.isValidName(mapID) else {
                throw HTTPError(400, "map_id '\(mapID.prefix(64))' is not a map name: use at most 32 letters, digits, '-' or '_'")
            }
            guard case .string(let type)? = json["file_type"], ["kml", "gpx", "geojson"].contains(type) else {
                throw HTTPError(400, "file_type must be one of kml, gpx, geojson (use kml for .kmz files)")
            }
            fileType = type
            switch json["new_group"] {
            case nil, .null?: newGroup = nil
            case .string(let g)? where !g.isEmpty && g.count <= 200 && !g.contains("/") && !g.hasPrefix("."):
                newGroup = g
            default: throw HTTPError(400, "new_group must be a group title (up to 200 characters, no '/')")
            }
        }
    }

    private func append(_ request: Request) throws -> Response {
        let args = try Arguments(header: request.headers["MapHub-API-Arg"])
        guard request.body.size > 0 else { throw HTTPError(400, "the request body must be the file to append") }
        let staged = try backend.newStagingFile(map: args.mapID)
        do {
            _ = try ServiceKit.copy(request.body, to: staged)
        } catch {
            backend.discardStaged(staged)
            throw error
        }
        let record = try backend.ingestStaged(staged, map: args.mapID, filename: "append.\(args.fileType)", group: args.newGroup, replace: false)
        guard record.state == .completed else {
            throw HTTPError(400, "the file could not be appended: \(record.errors.joined(separator: "; ")) (ingest \(record.id))")
        }
        guard let map = try backend.maps().first(where: { $0.id == args.mapID }) else {
            throw HTTPError(500, "map \(args.mapID) was not recorded")
        }
        var o = JSONObject()
        o["id"] = .string(map.id)
        o["url"] = .string(ServiceKit.baseURL(request) + "/v4/\(backend.owner).\(map.id).json")
        o["owner"] = .string(map.owner)
        o["short_name"] = .string(map.shortName)
        o["title"] = .string(map.title)
        o["visibility"] = .string(map.visibility)
        o["groups"] = .array(map.groups.map { ["title": .string($0)] })
        o["ingest_id"] = .string(record.id)
        o["feature_count"] = .int(Int64(record.featureCount ?? 0))
        o["warnings"] = .array(record.warnings.map(JSONValue.string))
        return JSONResponse.make(200, .object(o))
    }
}
