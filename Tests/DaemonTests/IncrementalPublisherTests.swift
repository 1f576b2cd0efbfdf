@testable import Daemon
import Formats
import XCTest

/// What `IncrementalPublisher.appendedSegments` reads as the append, through compactions.
final class IncrementalPublisherTests: XCTestCase {
    private func segments(_ saved: [(String, Int64)], _ current: [(String, Int64)], _ lineage: [String: [(String, Int64)]] = [:]) throws -> [GeoJSONSeqSource.Segment]? {
        try IncrementalPublisher.appendedSegments(saved: saved.map { (path: $0.0, size: $0.1) }, current: current.map { (path: $0.0, size: $0.1) },
                                                  compactionParts: { lineage[$0]?.map { (path: $0.0, size: $0.1) } })
    }

    func testFilesAfterTheSavedOnesAreTheAppend() throws {
        XCTAssertEqual(try segments([("a", 10), ("b", 20)], [("a", 10), ("b", 20), ("c", 5)]), [.init(path: "c", offset: 0, count: 5)])
        XCTAssertEqual(try segments([("a", 10)], [("a", 10)]), [])
    }

    func testACompactedFileIsOpenedUpIntoItsParts() throws {
        let lineage: [String: [(String, Int64)]] = ["C": [("a", 10), ("b", 20), ("c", 15)]]
        XCTAssertEqual(try segments([("a", 10), ("b", 20)], [("C", 45), ("d", 5)], lineage),
                       [.init(path: "C", offset: 30, count: 15), .init(path: "d", offset: 0, count: 5)])
        XCTAssertEqual(try segments([("a", 10), ("b", 20), ("c", 15)], [("C", 45)], lineage), [])
    }

    func testACompactionOfACompactionIsOpenedUpAgain() throws {
        let lineage: [String: [(String, Int64)]] = ["C": [("a", 10), ("b", 20), ("c", 15)], "C2": [("C", 45), ("d", 5)]]
        XCTAssertEqual(try segments([("a", 10), ("b", 20)], [("C2", 50)], lineage), [.init(path: "C2", offset: 30, count: 20)], "adjacent ranges of one file are one segment")
        XCTAssertEqual(try segments([("C", 45)], [("C2", 50), ("e", 1)], lineage),
                       [.init(path: "C2", offset: 45, count: 5), .init(path: "e", offset: 0, count: 1)])
    }

    func testAReplaceOrAChangedFileIsNoAppend() throws {
        XCTAssertNil(try segments([("a", 10), ("b", 20)], [("R", 40)]), "a replacement has no lineage")
        XCTAssertNil(try segments([("a", 10), ("b", 20)], [("a", 10), ("b", 21)]), "a file that changed size")
        XCTAssertNil(try segments([("a", 10), ("b", 20)], [("C", 31)], ["C": [("a", Int64(10)), ("b", 20)]]), "lineage whose sizes do not add up")
        XCTAssertNil(try segments([("a", 10), ("b", 20)], [("C", 30)], ["C": [("b", Int64(20)), ("a", 10)]]), "another order")
        XCTAssertNil(try segments([("a", 10)], [("b", -1)]), "a file that could not be read")
    }
}
