import LogbookJSON
import Testing

@Suite("JSONParser accepts RFC 8259 documents")
struct JSONParserAcceptanceTests {
    @Test("literals and whitespace parse to their values")
    func literals() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse(" \t\r\n null \t\r\n") == .null)
    }

    @Test(
        "integers that fit Int64 become .integer",
        arguments: [
            ("0", 0), ("-0", 0), ("7", 7), ("-7", -7), ("1234567890", 1_234_567_890),
            ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
        ] as [(String, Int64)]
    )
    func integers(text: String, expected: Int64) throws {
        #expect(try parse(text) == .integer(expected))
    }

    @Test(
        "numbers with fraction or exponent, or beyond Int64, become the correctly rounded .double",
        arguments: [
            ("1.5", 1.5), ("-1.5", -1.5), ("12.345", 12.345), ("0.1", 0.1), ("1e2", 100), ("1E2", 100),
            ("1e+2", 100), ("1E-2", 0.01), ("0e5", 0), ("0.000123", 0.000123), ("123.456e-7", 123.456e-7),
            ("9223372036854775808", 9_223_372_036_854_775_808.0),
            ("-9223372036854775809", -9_223_372_036_854_775_809.0),
            ("123456789012345678901234567890", 123_456_789_012_345_678_901_234_567_890.0),
            ("9007199254740993.0", 9_007_199_254_740_992), ("9007199254740995.0", 9_007_199_254_740_996),
            ("1.7976931348623157e308", .greatestFiniteMagnitude), ("2.2250738585072014e-308", 2.2250738585072014e-308),
            ("4.9e-324", .leastNonzeroMagnitude), ("2.4703282292062328e-324", .leastNonzeroMagnitude),
            ("2.4703282292062327e-324", 0),
            ("1e-400", 0), ("0.30000000000000004", 0.30000000000000004), ("1e22", 1e22), ("1e23", 1e23),
            ("8.98846567431158e307", 8.98846567431158e307),
        ] as [(String, Double)]
    )
    func doubles(text: String, expected: Double) throws {
        guard case .double(let value) = try parse(text) else {
            Issue.record("\(text) did not parse as a double")
            return
        }
        #expect(value.bitPattern == expected.bitPattern)
    }

    @Test("negative zero keeps its sign when written as a double")
    func negativeZero() throws {
        guard case .double(let value) = try parse("-0.0") else {
            Issue.record("-0.0 did not parse as a double")
            return
        }
        #expect(value == 0 && value.sign == .minus)
    }

    @Test(
        "escapes decode to the characters they name",
        arguments: [
            (#""""#, ""), (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"), (#""\u0041""#, "A"),
            (#""\u00e9\u00E9""#, "éé"), (#""\u20AC""#, "€"), (#""\uD83D\uDE00""#, "😀"), (#""\u0000""#, "\u{0}"),
            (#""\uDBFF\uDFFF""#, "\u{10FFFF}"), (#""a\nb""#, "a\nb"), (#""x\u0022y\\z é😀 end""#, "x\"y\\z é😀 end"),
        ] as [(String, String)]
    )
    func escapes(text: String, expected: String) throws {
        #expect(try parse(text) == .string(expected))
    }

    @Test("UTF-8 text is taken as is, in strings of every length around the eight-byte scanning step")
    func utf8Strings() throws {
        let pieces = ["a", "é", "€", "😀", "\u{7F}", "\u{10FFFF}", "\u{FFFD}"]
        for length in 0..<40 {
            for piece in pieces {
                let text = String(repeating: "x", count: length) + piece + String(repeating: "y", count: length % 9)
                #expect(try parse("\"\(text)\"") == .string(text))
            }
        }
    }

    @Test("a document keeps its structure and member order")
    func structure() throws {
        let text = #" { "b" : [ 1 , 2.5 , "x" , [ ] , { } ] , "a" : { "c" : null } , "e" : true } "#
        let expected = JSONValue.object(
            JSONObject([
                (
                    key: "b",
                    value: .array([.integer(1), .double(2.5), .string("x"), .array([]), .object(JSONObject())])
                ),
                (key: "a", value: .object(JSONObject([(key: "c", value: .null)]))),
                (key: "e", value: .bool(true)),
            ])
        )
        #expect(try parse(text) == expected)
    }

    @Test("a typical event line parses into the expected object")
    func eventLine() throws {
        let line = """
            {"id":"0f8fad5b-d9cb-469f-a165-70867728950e","tenant":"t042","type":"activity.window",\
            "user":"7c9e6679-7425-40de-944b-e07fc1f90ae7","ts":"2025-03-03T09:15:02.345Z","duration":12.345,\
            "data":{"app":"Google Chrome","title":"[ACMX-1234] Login redirect loop - Jira - Google Chrome"}}
            """
        guard case .object(let event) = try parse(line) else {
            Issue.record("the event is not an object")
            return
        }
        #expect(event.count == 7)
        #expect(event["tenant"] == .string("t042"))
        #expect(event["duration"] == .double(12.345))
        guard case .object(let data) = event["data"] else {
            Issue.record("data is not an object")
            return
        }
        #expect(data["title"] == .string("[ACMX-1234] Login redirect loop - Jira - Google Chrome"))
        #expect(event["missing"] == nil)
    }

    @Test("large objects with distinct keys are accepted and keep their order")
    func largeObject() throws {
        let keys = (0..<200).map { "key\($0)" }
        let text = "{" + keys.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
        guard case .object(let object) = try parse(text) else {
            Issue.record("not an object")
            return
        }
        #expect(object.members.map(\.key) == keys)
        #expect(object["key199"] == .integer(199))
    }

    @Test("nesting exactly at the depth limit is accepted", arguments: ["[", "{\"k\":"])
    func depthAtLimit(opening: String) throws {
        let closing = opening == "[" ? "]" : "}"
        let text = String(repeating: opening, count: 32) + "0" + String(repeating: closing, count: 32)
        _ = try parse(text)
        _ = try parse("[[0]]", limits: JSONParser.Limits(maxDepth: 2))
        #expect(try parse("7", limits: JSONParser.Limits(maxDepth: 0)) == .integer(7))
    }

    @Test("input exactly at the size limit is accepted")
    func sizeAtLimit() throws {
        #expect(try parse("[1,2]", limits: JSONParser.Limits(maxBytes: 5)) == .array([.integer(1), .integer(2)]))
    }

    @Test("the String, [UInt8] and raw-buffer entry points agree")
    func entryPoints() throws {
        let text = #"{"a":[1,"é",{"b":null}]}"#
        let bytes = Array(text.utf8)
        let fromBytes = try JSONParser.parse(bytes)
        let fromString = try JSONParser.parse(text)
        let fromBuffer = try bytes.withUnsafeBytes { buffer in try JSONParser.parse(buffer) }
        #expect(fromBytes == fromString)
        #expect(fromBytes == fromBuffer)
        #expect(try JSONParser.parseObject(bytes).count == 1)
    }

    @Test("a document that ends exactly at an inaccessible page is read without touching it")
    func guardPage() throws {
        for text in [#"{"a":"bcdefghijklmnopq"}"#, "12345.678e-3", "true", #""é""#, "[1,[2,[3]]]"] {
            let buffer = GuardedBuffer(Array(text.utf8))
            #expect(try JSONParser.parse(buffer.bytes) == parse(text))
        }
    }
}

@Suite("JSONObject")
struct JSONObjectTests {
    @Test("lookup finds the first member with an equal key and count counts members")
    func lookup() {
        let object = JSONObject([
            (key: "a", value: .integer(1)), (key: "b", value: .null), (key: "a", value: .integer(2)),
        ])
        #expect(object["a"] == .integer(1))
        #expect(object["b"] == .null)
        #expect(object["c"] == nil)
        #expect(object.count == 3)
        #expect(JSONObject().count == 0)
    }

    @Test("equality compares keys and values in order")
    func equality() {
        let ab = JSONObject([(key: "a", value: .integer(1)), (key: "b", value: .integer(2))])
        let ba = JSONObject([(key: "b", value: .integer(2)), (key: "a", value: .integer(1))])
        #expect(ab == JSONObject([(key: "a", value: .integer(1)), (key: "b", value: .integer(2))]))
        #expect(ab != ba)
        #expect(ab != JSONObject([(key: "a", value: .integer(1))]))
        #expect(ab != JSONObject([(key: "a", value: .integer(1)), (key: "b", value: .integer(3))]))
        #expect(JSONValue.integer(1) != .double(1))
    }
}
