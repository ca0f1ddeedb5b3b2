import LogbookJSON
import Testing

/// One input that must be rejected with exactly this code at exactly this offset.
struct Rejection: Sendable, CustomTestStringConvertible {
    var input: [UInt8]
    var code: JSONError.Code
    var offset: Int
    var limits = JSONParser.Limits.default

    init(_ text: String, _ code: JSONError.Code, at offset: Int, limits: JSONParser.Limits = .default) {
        self.init(bytes: Array(text.utf8), code, at: offset, limits: limits)
    }

    init(bytes: [UInt8], _ code: JSONError.Code, at offset: Int, limits: JSONParser.Limits = .default) {
        input = bytes
        self.code = code
        self.offset = offset
        self.limits = limits
    }

    var testDescription: String {
        let text = String(decoding: input, as: UTF8.self)
        return "\(text.debugDescription) → \(code) at \(offset)"
    }

    func check() {
        #expect(throws: JSONError(code, offset: offset)) {
            try JSONParser.parse(input, limits: limits)
        }
    }
}

@Suite("JSONParser rejects what RFC 8259 does not allow, naming the rule and the byte")
struct JSONParserRejectionTests {
    @Test(
        "truncated and empty documents are unexpectedEnd at the input's end",
        arguments: [
            Rejection("", .unexpectedEnd, at: 0), Rejection("   ", .unexpectedEnd, at: 3),
            Rejection("[", .unexpectedEnd, at: 1), Rejection("[1,", .unexpectedEnd, at: 3),
            Rejection("{\"a\"", .unexpectedEnd, at: 4), Rejection("{\"a\":", .unexpectedEnd, at: 5),
            Rejection("{\"a\":1", .unexpectedEnd, at: 6), Rejection("\"abc", .unexpectedEnd, at: 4),
            Rejection("\"abcdefghijklmnop", .unexpectedEnd, at: 17), Rejection("tru", .unexpectedEnd, at: 3),
            Rejection("nul", .unexpectedEnd, at: 3), Rejection("-", .unexpectedEnd, at: 1),
            Rejection("1.", .unexpectedEnd, at: 2), Rejection("1e", .unexpectedEnd, at: 2),
            Rejection("1e+", .unexpectedEnd, at: 3), Rejection("\"\\", .unexpectedEnd, at: 2),
            Rejection("\"\\u12", .unexpectedEnd, at: 5), Rejection("\"\\uD800", .unexpectedEnd, at: 7),
        ]
    )
    func truncated(rejection: Rejection) {
        rejection.check()
    }

    @Test(
        "bytes the grammar does not allow are unexpectedCharacter at that byte",
        arguments: [
            Rejection("+1", .unexpectedCharacter, at: 0), Rejection("[+1]", .unexpectedCharacter, at: 1),
            Rejection(".5", .unexpectedCharacter, at: 0), Rejection("NaN", .unexpectedCharacter, at: 0),
            Rejection("Infinity", .unexpectedCharacter, at: 0), Rejection("[1,]", .unexpectedCharacter, at: 3),
            Rejection("{\"a\":1,}", .unexpectedCharacter, at: 7), Rejection("[,1]", .unexpectedCharacter, at: 1),
            Rejection("{,}", .unexpectedCharacter, at: 1), Rejection("[1 2]", .unexpectedCharacter, at: 3),
            Rejection("{\"a\" 1}", .unexpectedCharacter, at: 5),
            Rejection("{\"a\":1 \"b\":2}", .unexpectedCharacter, at: 7),
            Rejection("[1}", .unexpectedCharacter, at: 2), Rejection("{\"a\":1]", .unexpectedCharacter, at: 6),
            Rejection("// c\n1", .unexpectedCharacter, at: 0), Rejection("[1/*c*/]", .unexpectedCharacter, at: 2),
            Rejection("# c\n1", .unexpectedCharacter, at: 0), Rejection("'a'", .unexpectedCharacter, at: 0),
            Rejection("{'a':1}", .unexpectedCharacter, at: 1), Rejection("{a:1}", .unexpectedCharacter, at: 1),
            Rejection("trUe", .unexpectedCharacter, at: 2), Rejection("True", .unexpectedCharacter, at: 0),
            Rejection("undefined", .unexpectedCharacter, at: 0), Rejection("\u{0B}1", .unexpectedCharacter, at: 0),
            Rejection("\"a\u{01}b\"", .unexpectedCharacter, at: 2),
            Rejection("\"tab\there\"", .unexpectedCharacter, at: 4),
            Rejection("\"line\nbreak\"", .unexpectedCharacter, at: 5),
            Rejection("\"0123456789\u{1F}\"", .unexpectedCharacter, at: 11),
            Rejection("\"a\\n\u{00}\"", .unexpectedCharacter, at: 4),
            Rejection(bytes: [0xEF, 0xBB, 0xBF, 0x31], .unexpectedCharacter, at: 0),
            Rejection(bytes: [0xC3, 0xA9], .unexpectedCharacter, at: 0),
        ]
    )
    func unexpectedCharacter(rejection: Rejection) {
        rejection.check()
    }

    @Test(
        "malformed numbers are invalidNumber at the offending byte",
        arguments: [
            Rejection("01", .invalidNumber, at: 1), Rejection("00", .invalidNumber, at: 1),
            Rejection("-01", .invalidNumber, at: 2), Rejection("[007]", .invalidNumber, at: 2),
            Rejection("-a", .invalidNumber, at: 1), Rejection("-Infinity", .invalidNumber, at: 1),
            Rejection("1.e5", .invalidNumber, at: 2), Rejection("1.x", .invalidNumber, at: 2),
            Rejection("1ex", .invalidNumber, at: 2), Rejection("1e+-2", .invalidNumber, at: 3),
            Rejection("- 1", .invalidNumber, at: 1),
        ]
    )
    func invalidNumber(rejection: Rejection) {
        rejection.check()
    }

    @Test(
        "numbers beyond the finite Double range are numberOutOfRange at the number's start",
        arguments: [
            Rejection("1e400", .numberOutOfRange, at: 0), Rejection("-1e400", .numberOutOfRange, at: 0),
            Rejection("[1, 1.8e308]", .numberOutOfRange, at: 4),
            Rejection("1" + String(repeating: "0", count: 400), .numberOutOfRange, at: 0),
            Rejection("{\"d\":1e99999999999999999999}", .numberOutOfRange, at: 5),
        ]
    )
    func numberOutOfRange(rejection: Rejection) {
        rejection.check()
    }

    @Test(
        "unknown escapes and unpaired surrogates are invalidEscape at the backslash",
        arguments: [
            Rejection("\"\\x\"", .invalidEscape, at: 1), Rejection("\"\\'\"", .invalidEscape, at: 1),
            Rejection("\"ab\\U0041\"", .invalidEscape, at: 3), Rejection("\"\\u12G4\"", .invalidEscape, at: 1),
            Rejection("\"\\uD800\"", .invalidEscape, at: 1), Rejection("\"\\uDC00\"", .invalidEscape, at: 1),
            Rejection("\"\\uDFFF\\uD800\"", .invalidEscape, at: 1),
            Rejection("\"\\uD800\\u0041\"", .invalidEscape, at: 1),
            Rejection("\"\\uD800\\uD800\"", .invalidEscape, at: 1), Rejection("\"\\uD800x\"", .invalidEscape, at: 1),
            Rejection("\"\\uD800\\n\"", .invalidEscape, at: 1),
            Rejection("\"ok\\uD83D\\uDE00 \\uDE00\"", .invalidEscape, at: 16),
            Rejection("\"\\uD800\\uDC0Z\"", .invalidEscape, at: 7),
        ]
    )
    func invalidEscape(rejection: Rejection) {
        rejection.check()
    }

    @Test(
        "ill-formed UTF-8 in strings is invalidUTF8 at the sequence's first byte",
        arguments: [
            Rejection(bytes: [0x22, 0x80, 0x22], .invalidUTF8, at: 1),  // lone continuation byte
            Rejection(bytes: [0x22, 0xC0, 0x80, 0x22], .invalidUTF8, at: 1),  // overlong NUL
            Rejection(bytes: [0x22, 0xC1, 0xBF, 0x22], .invalidUTF8, at: 1),  // overlong two-byte
            Rejection(bytes: [0x22, 0xE0, 0x80, 0xAF, 0x22], .invalidUTF8, at: 1),  // overlong three-byte
            Rejection(bytes: [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], .invalidUTF8, at: 1),  // overlong four-byte
            Rejection(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8, at: 1),  // UTF-8 encoded surrogate
            Rejection(bytes: [0x22, 0xED, 0xBF, 0xBF, 0x22], .invalidUTF8, at: 1),  // UTF-8 encoded surrogate
            Rejection(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8, at: 1),  // above U+10FFFF
            Rejection(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], .invalidUTF8, at: 1),  // lead byte above F4
            Rejection(bytes: [0x22, 0xFF, 0x22], .invalidUTF8, at: 1),
            Rejection(bytes: [0x22, 0xC3, 0x22], .invalidUTF8, at: 1),  // truncated by the closing quote
            Rejection(bytes: [0x22, 0xE2, 0x82, 0x22], .invalidUTF8, at: 1),
            Rejection(bytes: [0x22, 0xF0, 0x9F, 0x98, 0x22], .invalidUTF8, at: 1),
            Rejection(bytes: [0x22, 0xC3], .invalidUTF8, at: 1),  // truncated by the end of input
            Rejection(bytes: [0x22, 0xE2, 0x28, 0xA1, 0x22], .invalidUTF8, at: 1),  // bad second byte
            Rejection(bytes: [0x22, 0xF0, 0x9F, 0x28, 0x80, 0x22], .invalidUTF8, at: 1),  // bad third byte
            Rejection(bytes: Array("\"abcdefghij".utf8) + [0xC0, 0x80, 0x22], .invalidUTF8, at: 11),
            Rejection(bytes: Array("{\"k\u{e9}y".utf8) + [0xA9] + Array("\":1}".utf8), .invalidUTF8, at: 6),
            Rejection(bytes: Array("\"\\n".utf8) + [0xE0, 0x9F, 0xBF, 0x22], .invalidUTF8, at: 3),
        ]
    )
    func invalidUTF8(rejection: Rejection) {
        rejection.check()
    }

    @Test(
        "a key repeated in one object is duplicateKey at the repeated key",
        arguments: [
            Rejection("{\"a\":1,\"a\":2}", .duplicateKey, at: 7),
            Rejection("{\"a\":1,\"b\":{\"a\":1,\"a\":2}}", .duplicateKey, at: 18),
            Rejection("{\"a\":1,\"\\u0061\":2}", .duplicateKey, at: 7),  // same key, escaped
            Rejection("{\"\\u0061\":1,\"a\":2}", .duplicateKey, at: 12),
            Rejection("{\"axb\":1,\"ayb\":2,\"axb\":3}", .duplicateKey, at: 17),  // same length and ends
            Rejection("{\"\\n\":1,\"\\u000a\":2}", .duplicateKey, at: 8),
            Rejection("{\"é\":1,\"e\u{301}\":2}", .duplicateKey, at: 8),  // canonically equivalent spelling
            Rejection("{\"K\":1,\"\u{212A}\":2}", .duplicateKey, at: 7),  // Kelvin sign is canonically K
            Rejection(
                "{" + (0..<20).map { "\"k\($0)\":\($0)," }.joined() + "\"k3\":0}",
                .duplicateKey,
                at: 1 + (0..<20).map { "\"k\($0)\":\($0),".utf8.count }.reduce(0, +)
            ),
        ]
    )
    func duplicateKey(rejection: Rejection) {
        rejection.check()
    }

    @Test("the same key in different objects is not a duplicate, nor are similar keys in one object")
    func distinctKeys() throws {
        _ = try parse(#"{"a":{"a":1},"b":[{"a":1},{"a":2}],"c":{"b":{"a":0}}}"#)
        let similar = try parse(#"{"axb":1,"ayb":2,"azb":3,"":4,"a":5,"A":6,"\u0062":7,"é":8,"e":9}"#)
        guard case .object(let object) = similar else {
            Issue.record("not an object")
            return
        }
        #expect(object.count == 9)
    }

    @Test(
        "anything but whitespace after the value is trailingContent at its first byte",
        arguments: [
            Rejection("1 2", .trailingContent, at: 2), Rejection("{} x", .trailingContent, at: 3),
            Rejection("[1]]", .trailingContent, at: 3), Rejection("truex", .trailingContent, at: 4),
            Rejection("\"a\"\"b\"", .trailingContent, at: 3), Rejection("1.5.", .trailingContent, at: 3),
            Rejection("0x10", .trailingContent, at: 1), Rejection("null\n\u{00}", .trailingContent, at: 5),
            Rejection("{}\n{}", .trailingContent, at: 3),
        ]
    )
    func trailingContent(rejection: Rejection) {
        rejection.check()
    }

    @Test(
        "input longer than maxBytes is tooLarge before any parsing",
        arguments: [
            Rejection("[1,2]", .tooLarge, at: 4, limits: JSONParser.Limits(maxBytes: 4)),
            Rejection("not even JSON", .tooLarge, at: 3, limits: JSONParser.Limits(maxBytes: 3)),
        ]
    )
    func tooLarge(rejection: Rejection) {
        rejection.check()
    }

    @Test("the default size limit is 1 MiB")
    func defaultSizeLimit() throws {
        var large = [UInt8](repeating: UInt8(ascii: " "), count: 1 << 20)
        large[0] = UInt8(ascii: "0")
        #expect(try JSONParser.parse(large) == .integer(0))
        large.append(UInt8(ascii: " "))
        #expect(throws: JSONError(.tooLarge, offset: 1 << 20)) {
            try JSONParser.parse(large)
        }
    }

    @Test(
        "nesting deeper than maxDepth is nestingTooDeep at the first bracket too many",
        arguments: [
            Rejection(String(repeating: "[", count: 33) + String(repeating: "]", count: 33), .nestingTooDeep, at: 32),
            Rejection(
                String(repeating: "{\"a\":", count: 33) + "1" + String(repeating: "}", count: 33),
                .nestingTooDeep,
                at: 160
            ),
            Rejection("[[[]]]", .nestingTooDeep, at: 2, limits: JSONParser.Limits(maxDepth: 2)),
            Rejection(" {}", .nestingTooDeep, at: 1, limits: JSONParser.Limits(maxDepth: 0)),
            Rejection(String(repeating: "[", count: 100_000), .nestingTooDeep, at: 32),
        ]
    )
    func nestingTooDeep(rejection: Rejection) {
        rejection.check()
    }

    @Test("a huge maxDepth is safe for the parser: nesting uses no recursion")
    func deepNestingWithoutRecursion() throws {
        let depth = 100_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try parse(text, limits: JSONParser.Limits(maxDepth: .max, maxBytes: .max))
        var levels = 0
        // Walking down also tears the tree down one level at a time; letting Swift destroy it would recurse once
        // per level (which is why `maxDepth` should stay small in production).
        while case .array(let elements) = value, let first = elements.first {
            value = first
            levels += 1
        }
        #expect(levels == depth - 1)
    }

    @Test("parseObject rejects a valid non-object as notAnObject at the value")
    func notAnObject() throws {
        #expect(throws: JSONError(.notAnObject, offset: 2)) {
            try JSONParser.parseObject(Array(" \n[1]".utf8))
        }
        #expect(throws: JSONError(.notAnObject, offset: 0)) {
            try JSONParser.parseObject(Array("\"{}\"".utf8))
        }
        #expect(throws: JSONError(.unexpectedEnd, offset: 1)) {
            try JSONParser.parseObject(Array("{".utf8))
        }
    }

    @Test("error descriptions name the byte and the rule but never quote the input")
    func descriptionsDoNotLeakInput() {
        let secret = "Bearer sk-live-0123456789"
        do {
            _ = try parse("{\"token\":\"\(secret)\", oops}")
            Issue.record("accepted an invalid document")
        } catch {
            #expect(error.description == "invalid JSON at byte 38: unexpected character")
            #expect(!error.description.contains("sk-live"))
            #expect(error.code == .unexpectedCharacter)
        }
        #expect(JSONError(.tooLarge, offset: 1024).description == "invalid JSON at byte 1024: input too large")
        #expect(JSONError.Code.duplicateKey.description == "duplicate key")
    }
}
