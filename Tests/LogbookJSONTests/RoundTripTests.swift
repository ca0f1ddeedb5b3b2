import LogbookJSON
import LogbookTestSupport
import Testing

@Suite("Writing then parsing gives back the same value")
struct RoundTripTests {
    @Test(
        "compact documents are reproduced byte for byte",
        arguments: [
            "null", "true", "0", "-9223372036854775808", "12.345", "-0.0", "1e+16", "\"\"", "[]", "{}",
            #"{"id":"0f8fad5b-d9cb-469f-a165-70867728950e","ts":"2025-03-03T09:15:02.345Z","duration":12.345}"#,
            #"[1,[2,[3,{"a":[]}]],"é€😀",{"k":{"k":null}}]"#, #""\"\\\n\t\r\b\f\u0000\u001f""#,
        ]
    )
    func compactDocuments(text: String) throws {
        #expect(serialize(try parse(text)) == text)
    }

    @Test(
        "documents with whitespace and optional escapes keep their value through a rewrite",
        arguments: [
            #" { "a" : [ 1 , 2 ] , "b" : "\u00e9\/\ud83d\ude00" } "#, "[ 1.0 , 1E2 , 0.5e-3 , -12 ]",
            #"{"nested":{"deeper":{"deepest":[true,false,null]}}}"#,
        ]
    )
    func normalisedDocuments(text: String) throws {
        let value = try parse(text)
        #expect(try parse(serialize(value)) == value)
    }

    @Test("random values survive write then parse unchanged", arguments: [0x5EED_0001, 0x5EED_0002] as [UInt64])
    func randomValues(seed: UInt64) throws {
        var generator = ValueGenerator(random: SeededGenerator(seed: seed))
        for _ in 0..<1500 {
            let value = generator.value()
            let text = serialize(value)
            let reparsed = try parse(text, limits: JSONParser.Limits(maxDepth: 8))
            #expect(reparsed == value, "\(text)")
            #expect(serialize(reparsed) == text)
        }
    }

    @Test("random doubles are parsed back to the identical bit pattern")
    func randomDoubles() throws {
        var generator = ValueGenerator(random: SeededGenerator(seed: 0xD0_0B1E))
        for _ in 0..<5000 {
            let double = generator.double()
            guard case .double(let parsed) = try parse(serialize(.double(double))) else {
                Issue.record("\(double) did not come back as a double")
                continue
            }
            #expect(parsed.bitPattern == double.bitPattern, "\(double)")
        }
    }
}

@Suite("JSONParser survives corrupted input")
struct FuzzTests {
    /// Valid documents to corrupt: hand-written ones covering every construct, plus random ones.
    private static func corpus() -> [[UInt8]] {
        var documents = [
            #"{"id":"0f8fad5b-d9cb-469f-a165-70867728950e","tenant":"t042","duration":12.345,"n":-7,"#
                + #""data":{"app":"Google Chrome","title":"[ACMX-1234] \"Login\" loop \u00e9 — é😀"},"#
                + #""list":[true,false,null,1e-3,0,{"k":[]}]}"#,
            #"[1,-0.5,2E+10,"\ud83d\ude00\u0000\n",{"a":{"b":{"c":[[[]]]}}}]"#,
            #""escapes \" \\ \/ \b \f \n \r \t \u20ac and ßé€😀""#,
        ].map { Array($0.utf8) }
        var generator = ValueGenerator(random: SeededGenerator(seed: 0xF0CC_0001))
        for _ in 0..<40 {
            documents.append(Array(serialize(generator.value()).utf8))
        }
        return documents
    }

    private static let interesting: [UInt8] =
        Array(#"{}[]",:\-+.eE0123456789 ntfu"#.utf8) + [
            0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF,
        ]

    private static func mutate(_ document: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = document
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            guard !bytes.isEmpty else {
                break
            }
            let index = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 1:
                bytes[index] = interesting.randomElement(using: &random)!
            case 2:
                bytes.insert(interesting.randomElement(using: &random)!, at: index)
            case 3:
                bytes.remove(at: index)
            case 4:
                bytes.removeSubrange(index...)
            default:
                let end = Swift.min(bytes.count, index + Int.random(in: 1...16, using: &random))
                bytes.insert(contentsOf: bytes[index..<end], at: Int.random(in: 0...bytes.count, using: &random))
            }
        }
        return bytes
    }

    @Test(
        "mutated and truncated documents either parse to a value that round-trips or throw at an offset within the input"
    )
    func mutations() throws {
        var random = SeededGenerator(seed: 0xBAD_F00D)
        let documents = Self.corpus()
        var accepted = 0
        var rejected = 0
        for iteration in 0..<4000 {
            let input = Self.mutate(documents[iteration % documents.count], using: &random)
            // The input ends where an inaccessible page begins, so any read past the end crashes the test.
            let buffer = GuardedBuffer(input)
            do {
                let value = try JSONParser.parse(buffer.bytes)
                #expect(try parse(serialize(value)) == value)
                accepted += 1
            } catch {
                #expect((0...input.count).contains(error.offset), "\(error) for \(input)")
                rejected += 1
            }
        }
        // Both outcomes must actually occur, or the mutations are not exercising the parser.
        #expect(accepted > 100)
        #expect(rejected > 1000)
    }

    @Test("every prefix of a valid document is rejected as unexpectedEnd or parsed, never read past")
    func prefixes() throws {
        for document in Self.corpus().prefix(3) {
            for length in 0..<document.count {
                let buffer = GuardedBuffer(Array(document[..<length]))
                do {
                    _ = try JSONParser.parse(buffer.bytes)
                } catch {
                    #expect(error.offset <= length)
                }
            }
        }
    }
}
