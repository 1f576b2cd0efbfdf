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

    func testMapIDsAreStableSlugsOfAnyFolderName() {
        XCTAssertEqual(DropNames.mapID(forFolder: "Wanderwege Bayern"), "wanderwege-bayern")
        XCTAssertEqual(DropNames.mapID(forFolder: "café"), "cafe")
        XCTAssertEqual(DropNames.mapID(forFolder: "Straße  über / Brücke!"), "strasse-uber-brucke")
        XCTAssertEqual(DropNames.mapID(forFolder: "Ærø Øst"), "aero-ost")
        XCTAssertEqual(DropNames.mapID(forFolder: "countries_2024-v1"), "countries_2024-v1", "valid ids stay as they are")
        XCTAssertEqual(DropNames.mapID(forFolder: "Trips"), "Trips", "existing maps keep their ids")
        let long = DropNames.mapID(forFolder: String(repeating: "Wanderweg ", count: 8))
        XCTAssertLessThanOrEqual(long.count, 32)
        XCTAssertFalse(long.hasSuffix("-"))
        let japanese = DropNames.mapID(forFolder: "地図")
        XCTAssertTrue(japanese.hasPrefix("map-") && japanese.count == 12, japanese)
        XCTAssertEqual(japanese, DropNames.mapID(forFolder: "地図"), "stable")
        for name in ["Wanderwege Bayern", "café", "地図", String(repeating: "x y", count: 40)] {
            XCTAssertTrue(DropNames.isValidMapName(DropNames.mapID(forFolder: name)), name)
        }
    }
}
