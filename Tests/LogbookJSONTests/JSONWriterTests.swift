import LogbookJSON
import Testing

@Suite("JSONWriter produces compact JSON")
struct JSONWriterTests {
    private func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test("commas go between elements and members, never after the last or between key and value")
    func separators() {
        let text = written { writer in
            writer.beginObject()
            writer.writeKey("a")
            writer.writeInteger(1)
            writer.writeKey("b")
            writer.beginArray()
            writer.writeBool(true)
            writer.writeBool(false)
            writer.writeNull()
            writer.beginObject()
            writer.endObject()
            writer.beginArray()
            writer.endArray()
            writer.endArray()
            writer.writeKey("c")
            writer.beginObject()
            writer.writeKey("d")
            writer.writeString("e")
            writer.endObject()
            writer.endObject()
        }
        #expect(text == #"{"a":1,"b":[true,false,null,{},[]],"c":{"d":"e"}}"#)
    }

    @Test("plain keys and strings (literals needing no escapes) are separated like any others")
    func plainLiterals() {
        let plain = written { writer in
            writer.beginArray()
            for seq in [1, 2] {
                writer.beginObject()
                writer.writeKey(plain: "status")
                writer.writeString(plain: "appended")
                writer.writeKey(plain: "seq")
                writer.writeInteger(Int64(seq))
                writer.endObject()
            }
            writer.writeString(plain: "")
            writer.endArray()
        }
        let general = written { writer in
            writer.beginArray()
            for seq in [1, 2] {
                writer.beginObject()
                writer.writeKey("status")
                writer.writeString("appended")
                writer.writeKey("seq")
                writer.writeInteger(Int64(seq))
                writer.endObject()
            }
            writer.writeString("")
            writer.endArray()
        }
        #expect(plain == #"[{"status":"appended","seq":1},{"status":"appended","seq":2},""]"#)
        #expect(plain == general)
    }

    @Test("a value written as literals around an integer is separated like any other, after it too")
    func literalsAroundInteger() {
        let text = written { writer in
            writer.beginObject()
            writer.writeKey("results")
            writer.beginArray()
            writer.writeValue(#"{"seq":"#, 1, "}")
            writer.writeValue(#"{"seq":"#, -20, "}")
            writer.writeInteger(3)
            writer.writeValue("[", 0, "]")
            writer.endArray()
            writer.writeKey("n")
            writer.writeValue("", 4, "")
            writer.endObject()
            writer.writeValue("[", 5, "]")
        }
        #expect(text == #"{"results":[{"seq":1},{"seq":-20},3,[0]],"n":4}[5]"#)
    }

    @Test("top-level values are not separated by commas, so NDJSON records can follow each other")
    func topLevelSequence() {
        let text = written { writer in
            writer.beginObject()
            writer.endObject()
            writer.writeRaw("\n")
            writer.writeInteger(2)
            writer.writeRaw("\n")
        }
        #expect(text == "{}\n2\n")
    }

    @Test("strings escape quotes, backslashes and control characters and keep other UTF-8 as is")
    func stringEscaping() {
        let text = written { writer in
            writer.writeString("a\"b\\c\n\t\r\u{08}\u{0C}\u{00}\u{01}\u{1F}\u{7F}/é€😀\u{2028}")
        }
        #expect(text == #""a\"b\\c\n\t\r\b\f\u0000\u0001\u001f"# + "\u{7F}/é€😀\u{2028}\"")
    }

    @Test(
        "short and long strings, with and without escapes, are written the same way",
        arguments: [0, 7, 8, 119, 120, 121, 300]
    )
    func stringLengths(length: Int) {
        let plain = String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)
        let escaped = String(repeating: "y", count: length) + "\n"
        let text = written { writer in
            writer.beginObject()
            writer.writeKey(plain)
            writer.beginArray()
            writer.writeString(plain)
            writer.writeString(escaped)
            writer.writeString(plain)
            writer.endArray()
            writer.writeKey(escaped)
            writer.writeString("")
            writer.endObject()
        }
        let escapedText = String(repeating: "y", count: length) + "\\n"
        #expect(text == "{\"\(plain)\":[\"\(plain)\",\"\(escapedText)\",\"\(plain)\"],\"\(escapedText)\":\"\"}")
    }

    @Test("keys are escaped like strings")
    func keyEscaping() {
        let text = written { writer in
            writer.beginObject()
            writer.writeKey("x\"\n")
            writer.writeNull()
            writer.endObject()
        }
        #expect(text == #"{"x\"\n":null}"#)
    }

    @Test(
        "integers are written in decimal across the whole Int64 range",
        arguments: [
            (0, "0"), (-1, "-1"), (42, "42"), (1_000_000, "1000000"), (Int64.max, "9223372036854775807"),
            (Int64.min, "-9223372036854775808"),
        ] as [(Int64, String)]
    )
    func integers(value: Int64, expected: String) {
        #expect(written { $0.writeInteger(value) } == expected)
    }

    @Test(
        "doubles use the shortest round-trip form and non-finite values become null",
        arguments: [
            (12.0, "12.0"), (0.1, "0.1"), (12.345, "12.345"), (-0.0, "-0.0"), (1e16, "1e+16"),
            (.leastNonzeroMagnitude, "5e-324"),
            (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
        ] as [(Double, String)]
    )
    func doubles(value: Double, expected: String) {
        #expect(written { $0.writeDouble(value) } == expected)
    }

    @Test("write(_:) serialises a value tree with members in stored order")
    func valueTree() {
        let value = JSONValue.object(
            JSONObject([
                (key: "z", value: .array([.integer(1), .double(2.5), .string("s"), .null, .bool(true)])),
                (key: "a", value: .object(JSONObject())),
            ])
        )
        #expect(serialize(value) == #"{"z":[1,2.5,"s",null,true],"a":{}}"#)
    }

    @Test("reset empties the buffer, forgets open containers and keeps the capacity")
    func reset() {
        var writer = JSONWriter(capacity: 1024)
        writer.beginArray()
        writer.writeInteger(1)
        let capacity = writer.bytes.capacity
        #expect(capacity >= 1024)
        writer.reset()
        #expect(writer.bytes.isEmpty)
        #expect(writer.bytes.capacity == capacity)
        writer.writeInteger(2)
        #expect(writer.bytes == Array("2".utf8))
    }
}
