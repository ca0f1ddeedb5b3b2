import LogbookJSON
import Testing

@Suite("NDJSONLines splits a buffer into numbered lines")
struct NDJSONLinesTests {
    /// The lines of `text` as (number, text) pairs.
    private func lines(_ text: String) -> [(Int, String)] {
        Array(text.utf8).withUnsafeBytes { buffer in
            NDJSONLines(buffer).map { ($0.lineNumber, String(decoding: $0.bytes, as: UTF8.self)) }
        }
    }

    private func expectLines(_ text: String, _ expected: [(Int, String)]) {
        let actual = lines(text)
        #expect(actual.map(\.0) == expected.map(\.0), "\(text.debugDescription)")
        #expect(actual.map(\.1) == expected.map(\.1), "\(text.debugDescription)")
    }

    @Test("lines end at \\n, and a final newline does not start another line")
    func newlines() {
        expectLines("{\"a\":1}\n{\"b\":2}\n", [(1, "{\"a\":1}"), (2, "{\"b\":2}")])
    }

    @Test("a trailing \\r is stripped, so CRLF files read like LF files; other \\r bytes stay")
    func crlf() {
        expectLines("a\r\nb\r\n", [(1, "a"), (2, "b")])
        expectLines("a\rb\n\r\n", [(1, "a\rb"), (2, "")])
        expectLines("x\r", [(1, "x")])
    }

    @Test("empty and whitespace-only lines are reported, so line numbers stay true")
    func emptyLines() {
        expectLines("a\n\n  \t\nb\n", [(1, "a"), (2, ""), (3, "  \t"), (4, "b")])
        expectLines("\n", [(1, "")])
        expectLines("\n\n", [(1, ""), (2, "")])
    }

    @Test("a last line without a newline is reported")
    func lastLineWithoutNewline() {
        expectLines("a\nlast", [(1, "a"), (2, "last")])
        expectLines("only", [(1, "only")])
    }

    @Test("an empty buffer has no lines")
    func emptyBuffer() {
        expectLines("", [])
        #expect(NDJSONLines(UnsafeRawBufferPointer(start: nil, count: 0)).map(\.lineNumber).isEmpty)
    }

    @Test("newlines are found at every position around the eight-byte scanning step", arguments: 0..<20)
    func lineLengths(length: Int) {
        let line = String(repeating: "x", count: length)
        expectLines(line + "\n" + line + "\r\n" + line + "z", [(1, line), (2, line), (3, line + "z")])
    }

    @Test("lines are views of the buffer that parse without copying")
    func parseLines() throws {
        let text = "{\"n\":1}\r\n\n{\"n\":2}\n[3]"
        var parsed: [JSONValue] = []
        try Array(text.utf8).withUnsafeBytes { buffer in
            for line in NDJSONLines(buffer) where !line.bytes.isEmpty {
                #expect(line.bytes.baseAddress.map { $0 >= buffer.baseAddress! } == true)
                parsed.append(try JSONParser.parse(line.bytes))
            }
        }
        #expect(parsed.count == 3)
        #expect(parsed.last == .array([.integer(3)]))
    }

    @Test("the last line ends exactly at the buffer's end without being read past")
    func guardedEnd() {
        for text in ["abc", "abcdefghijklmnopq", "a\nbcdefghijk\r"] {
            let buffer = GuardedBuffer(Array(text.utf8))
            let count = NDJSONLines(buffer.bytes).reduce(0) { $0 + $1.bytes.count }
            #expect(count == text.utf8.count - text.filter { $0 == "\n" || $0 == "\r" }.count)
        }
    }
}
