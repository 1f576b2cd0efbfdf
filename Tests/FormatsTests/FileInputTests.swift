import Foundation
import XCTest
@testable import Formats

/// Issue 8 (f): input files are opened without following a symbolic link unless asked to.
final class FileInputTests: XCTestCase {
    private let feature = #"{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point","coordinates":[1,2]}}"#

    func testASymlinkIsRefusedByDefaultAndFollowedWhenAsked() throws {
        let target = try TestSupport.tempFile("target.geojson", feature)
        let link = FileManager.default.temporaryDirectory.path + "/tiledrop-link-\(UUID().uuidString).geojson"
        XCTAssertEqual(symlink(target, link), 0)
        defer { unlink(link) }
        XCTAssertThrowsError(try FeatureReaders.open(path: link, displayName: "link.geojson")) { error in
            XCTAssertEqual("\(error)", "link.geojson: is a symbolic link; symlinks are not followed; copy the file instead")
        }
        var limits = ReaderLimits.default
        limits.followSymlinks = true
        let (features, _) = try TestSupport.readAll(link, limits: limits)
        XCTAssertEqual(features.count, 1)
    }

    func testAFIFOIsRefusedWithoutBlocking() throws {
        let fifo = FileManager.default.temporaryDirectory.path + "/tiledrop-fifo-\(UUID().uuidString).geojson"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        defer { unlink(fifo) }
        XCTAssertThrowsError(try FeatureReaders.open(path: fifo, displayName: "pipe.geojson")) { error in
            XCTAssertTrue("\(error)".contains("is not a regular file"), "\(error)")
        }
    }
}
