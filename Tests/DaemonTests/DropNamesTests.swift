import Foundation
import XCTest
@testable import Daemon
import Storage
import SystemSupport

final class DropNamesTests: XCTestCase {
    func testIgnoresTemporaryAndJunkNames() {
        for name in [".hidden", "a.part", "b.crdownload", "c.filepart", "d.tmp", "~$e.kml", "f.swp", "g~", "Thumbs.db", ".DS_Store"] {
            XCTAssertTrue(DropNames.isIgnored(name), name)
        }
        for name in ["track.gpx", "map.kml", "x.geojson", "a.b.kmz"] {
            XCTAssertFalse(DropNames.isIgnored(name), name)
        }
    }

    func testMapNamesFollowMTSSourceIDs() {
        XCTAssertTrue(DropNames.isValidMapName("countries_2024-v1"))
        XCTAssertFalse(DropNames.isValidMapName("has space"))
        XCTAssertFalse(DropNames.isValidMapName(String(repeating: "a", count: 33)))
        XCTAssertEqual(TilesetSourceURI.map(from: "tiledrop://tileset-source/rivers"), "rivers")
        XCTAssertNil(TilesetSourceURI.map(from: "rivers.geojson"))
    }
}
