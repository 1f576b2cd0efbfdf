import Carto
import XCTest

/// One input that must be refused: the text the message names and where it points.
struct RefusalCase {
    var input: String
    var says: String
    var line: Int
    var column: Int

    init(_ input: String, _ says: String, _ line: Int, _ column: Int) {
        self.input = input
        self.says = says
        self.line = line
        self.column = column
    }

    /// Checks `parse` refuses every case with its message, line and column.
    static func check(_ cases: [RefusalCase], parse: (String) throws(CartoError) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        for c in cases {
            do {
                try parse(c.input)
                XCTFail("accepted \(c.input.prefix(80))", file: file, line: line)
            } catch {
                XCTAssertTrue(error.message.contains(c.says), "\(c.input): \(error.message)", file: file, line: line)
                XCTAssertEqual(error.line, c.line, "\(c.input): \(error)", file: file, line: line)
                XCTAssertEqual(error.column, c.column, "\(c.input): \(error)", file: file, line: line)
                XCTAssertTrue(error.description.hasPrefix("line \(c.line), column \(c.column): "), error.description, file: file, line: line)
            }
        }
    }
}
