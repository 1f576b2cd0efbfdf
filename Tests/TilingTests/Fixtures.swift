import GeoModel
import Foundation
import XCTest

/// Locates the shared fixtures: `TILEDROP_FIXTURES`, else `<repo root>/../shared/fixtures`.
enum Fixtures {
    static var root: String {
        if let env = ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"], !env.isEmpty { return env }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }

    /// The path of a fixture, or an `XCTSkip` when the fixtures are not installed.
    static func path(_ relative: String) throws -> String {
        let p = root + "/" + relative
        guard FileManager.default.fileExists(atPath: p) else { throw XCTSkip("fixtures not found at \(p); set TILEDROP_FIXTURES") }
        return p
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try path(relative))))
    }
}

/// A JSONObject from a JSON object literal (tests only).
func props(_ v: JSONValue) -> JSONObject { v.objectValue ?? JSONObject() }
