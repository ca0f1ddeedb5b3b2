import LogbookJSON
import LogbookTestSupport
import Testing

/// `JSONArrayElements.split`: the elements of a top-level array as byte ranges, or nil for
/// anything else; and never a split that disagrees with parsing the whole document.
@Suite("JSON array elements")
struct JSONArrayElementsTests {
    static func split(_ text: String) -> [String]? {
        Array(text.utf8).withUnsafeBytes { buffer in
            JSONArrayElements.split(buffer)?.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test("elements come out trimmed, with brackets and commas inside strings and nesting left alone")
    func splits() {
        #expect(Self.split("[]") == [])
        #expect(Self.split(" [ ] ") == [])
        #expect(Self.split("[1]") == ["1"])
        #expect(
            Self.split(#" [ {"a":"],[{"} , [1,[2]] ,"x\"]," ,null ] "#) == [
                #"{"a":"],[{"}"#, "[1,[2]]", #""x\"],""#, "null",
            ])
    }

    @Test(
        "anything but a plain array is left to the parser",
        arguments: [
            "", "{}", "1", "[", "[1", "[1,]", "[,1]", "[1,,2]", "[1]]", "[1] x", "[1}", #"["abc]"#, #"["a\"]"#, "[}]",
        ])
    func refuses(_ text: String) {
        #expect(Self.split(text) == nil)
    }

    @Test("when every element parses, the whole document parses to the same elements")
    func agreesWithParser() throws {
        var g = SeededGenerator(seed: 21)
        let pieces = [#"{"a":1}"#, "[1,2]", #""s,]""#, #""\"[""#, "null", "2.5", " ", ",", "[", "]", "{", "}", "\""]
        var compared = 0
        for _ in 0..<20_000 {
            var text = "["
            for _ in 0..<Int(g.next() % 6) { text += pieces[Int(g.next() % UInt64(pieces.count))] }
            text += g.next() % 4 == 0 ? "" : "]"
            let bytes = Array(text.utf8)
            let elements: [JSONValue]? = bytes.withUnsafeBytes { buffer in
                guard let parts = JSONArrayElements.split(buffer) else { return nil }
                var values: [JSONValue] = []
                for part in parts {
                    guard let v = try? JSONParser.parse(part) else { return nil }
                    values.append(v)
                }
                return values
            }
            guard let elements else { continue }
            compared += 1
            #expect((try? JSONParser.parse(bytes)) == .array(elements), "\(text)")
        }
        #expect(compared > 1000, "only \(compared) splits were compared")
    }
}
