import Foundation
import XCTest
@testable import SystemSupport

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        var h = SHA256()
        XCTAssertEqual(h.finalize(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        h = SHA256()
        h.update(Array("abc".utf8))
        XCTAssertEqual(h.finalize(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Fed in uneven chunks across block boundaries.
        h = SHA256()
        let text = Array(String(repeating: "a", count: 1_000).utf8)
        for chunk in stride(from: 0, to: text.count, by: 37) { h.update(Array(text[chunk..<min(chunk + 37, text.count)])) }
        XCTAssertEqual(h.finalize(), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}
