import Foundation
import XCTest
@testable import Formats
import GeoModel

/// Temporary files and fixture lookup shared by the Formats tests.
enum TestSupport {
    /// `TILEDROP_FIXTURES`, else `<repo root>/../shared/fixtures`.
    static var fixturesRoot: URL {
        if let env = ProcessInfo.processInfo.environment["TILEDROP_FIXTURES"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }

    /// The fixture folder `sub`, or an XCTSkip when the fixtures are absent.
    static func fixtures(_ sub: String) throws -> URL {
        let url = fixturesRoot.appendingPathComponent(sub)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("\(sub) fixtures not found at \(url.path); set TILEDROP_FIXTURES")
        }
        return url
    }

    /// Writes `bytes` to a fresh temporary file named `name` and returns its path.
    static func tempFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tiledrop-formats-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func tempFile(_ name: String, _ text: String) throws -> String {
        try tempFile(name, Array(text.utf8))
    }

    /// Reads every feature of `path`; returns them with the reader (for warnings/format).
    static func readAll(_ path: String, limits: ReaderLimits = .default) throws -> ([Feature], any FeatureReader) {
        let reader = try FeatureReaders.open(path: path, limits: limits)
        var out: [Feature] = []
        while let f = try reader.next() { out.append(f) }
        return (out, reader)
    }

    static func readAll(name: String, text: String) throws -> ([Feature], any FeatureReader) {
        try readAll(try tempFile(name, text))
    }
}
