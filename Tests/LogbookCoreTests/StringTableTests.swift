import Foundation
import Testing
@testable import LogbookCore
import LogbookTestSupport

@Suite("A block's string table")
struct StringTableTests {
    @Test("indexes follow first occurrence through many growths, and the table reads back in that order")
    func modelOfFirstOccurrences() throws {
        var g = SeededGenerator(seed: 21)
        // 6,000 strings of 0–40 characters from a four-letter alphabet (one of them two bytes
        // long): the short ones repeat, the long ones share prefixes, and a table sized for
        // none grows past 4,096 slots on the way.
        let alphabet: [Character] = ["a", "b", "c", "\u{E9}"]
        let texts = (0..<6_000).map { _ in
            String((0..<Int(g.next() % 41)).map { _ in alphabet[Int(g.next() % 4)] })
        }
        let source = texts.flatMap { Array($0.utf8) }
        var model: [String: Int] = [:]
        var distinct: [String] = []
        let expected = texts.map { t in
            if let i = model[t] { return i }
            model[t] = distinct.count
            distinct.append(t)
            return distinct.count - 1
        }
        #expect(distinct.count > 2_048)
        // The entries point into `source`, which stays alive until the table is written.
        let (indexes, table) = source.withUnsafeBytes { bytes in
            var table = TableBytes(entries: 0)
            var offset = 0
            let indexes = [UInt8](room: 10 * texts.count) { c in
                for t in texts {
                    let n = t.utf8.count
                    table.encode(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]), into: &c)
                    offset += n
                }
            }
            return (indexes, [UInt8](room: table.tableBound) { table.writeTable(into: &$0) })
        }
        let decodedIndexes = try indexes.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            return try texts.map { _ in Int(try r.varint()) }
        }
        #expect(decodedIndexes == expected)
        let strings = try table.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            var cache = StringCache()
            return try TableStrings.readTable(&r, cache: &cache).table
        }
        #expect(strings.map { Array($0.utf8) } == distinct.map { Array($0.utf8) })
    }
}
