import Testing
@testable import LogbookCore
import LogbookTestSupport
import LogbookZstd

/// What a tenant's dictionary holds (`DictionaryTraining.content`): strings that repeated,
/// the most bytes saved nearest the end, then the most recent others, within the capacity.
@Suite("Dictionary content")
struct DictionaryContentTests {
    static func piece(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test("repeated strings come last, the most saved nearest the end; then recent unique ones before them")
    func order() throws {
        let filler = (0..<40).map { Self.piece("unique title number \($0) of a long enough filler") }
        let pieces =
            filler
            + [Self.piece("Visual Studio Code"), Self.piece("Slack"), Self.piece("Visual Studio Code")]
            + [Self.piece("Slack"), Self.piece("Slack"), Self.piece("Visual Studio Code")]
        let bytes = try #require(DictionaryTraining.content(pieces, capacity: 4096))
        // "Visual Studio Code" saved 2 × 18 bytes, "Slack" 2 × 5.
        #expect(bytes.suffix(18 + 5) == ArraySlice(Self.piece("SlackVisual Studio Code")))
        // Before them, the unique ones, the most recent nearest.
        let rest = bytes.dropLast(23)
        #expect(rest.suffix(filler[39].count) == ArraySlice(filler[39]))
        #expect(rest.prefix(filler[0].count) == ArraySlice(filler[0]))
        #expect(bytes.count == filler.reduce(0) { $0 + $1.count } + 23, "each string once")
    }

    @Test("the capacity is never exceeded, and the most valuable strings are the ones kept")
    func capacity() throws {
        let pieces = (0..<500).map { Self.piece("title \($0 % 50) — a window title of some length") }
        let bytes = try #require(DictionaryTraining.content(pieces, capacity: 600))
        #expect(bytes.count <= 600)
        #expect(bytes.count > 500)
        // The last occurrences were of titles 0...49 in turn: all repeat ten times, so the
        // most recent (49) is nearest the end.
        let last = Self.piece("title 49 — a window title of some length")
        #expect(bytes.suffix(last.count) == ArraySlice(last))
    }

    @Test("too little content is no dictionary; short strings are left out")
    func tooLittle() {
        #expect(DictionaryTraining.content([Self.piece("abc"), Self.piece("Slack")], capacity: 4096) == nil)
        #expect(DictionaryTraining.content((0..<100).map { _ in Self.piece("abc") }, capacity: 4096) == nil)
    }

    @Test("content that would start with zstd's magic number is shifted, so that zstd reads it as raw content")
    func magic() throws {
        let looksTrained = ZstdDictionary.magic + Array(repeating: UInt8(ascii: "x"), count: 300)
        let bytes = try #require(DictionaryTraining.content([looksTrained], capacity: 4096))
        #expect(!bytes.starts(with: ZstdDictionary.magic))
        #expect(bytes.dropFirst() == ArraySlice(looksTrained))
        let dictionary = try ZstdDictionary(bytes: bytes, level: 1, id: DictionaryTraining.id(of: bytes))
        #expect(dictionary.id != 0)
    }

    /// The content rules written plainly, with a `Dictionary`: the model the table in
    /// `DictionaryTraining.content` must agree with.
    static func model(_ pieces: [[UInt8]], capacity: Int) -> [UInt8]? {
        var seen: [[UInt8]: (count: Int, last: Int)] = [:]
        for (i, p) in pieces.enumerated() where p.count >= 4 {
            let c = seen[p]?.count ?? 0
            seen[p] = (c + 1, i)
        }
        let ranked = seen.sorted { a, b in
            let (x, y) = ((a.value.count - 1) * a.key.count, (b.value.count - 1) * b.key.count)
            return x != y ? x > y : a.value.last > b.value.last
        }
        var chosen: [[UInt8]] = []
        var size = 0
        for (p, _) in ranked where size + p.count <= capacity {
            chosen.append(p)
            size += p.count
        }
        guard size >= DictionaryTraining.minimumSize else { return nil }
        var bytes = chosen.reversed().flatMap { $0 }
        if bytes.starts(with: ZstdDictionary.magic) { bytes.insert(0x20, at: 0) }
        return bytes
    }

    @Test("random pieces, repeated and short among them, give the model's content")
    func agreesWithModel() {
        var g = SeededGenerator(seed: 53)
        for round in 0..<40 {
            let distinct = 1 + Int(g.next() % 300)
            let pool = (0..<distinct).map { k in
                (0..<Int(g.next() % 40)).map { _ in UInt8(truncatingIfNeeded: g.next() % 7 + 97 + UInt64(k % 3)) }
            }
            let pieces = (0..<Int(g.next() % 3000)).map { _ in pool[Int(g.next() % UInt64(distinct))] }
            let capacity = [64, 700, 4096, 1 << 20][round % 4]
            #expect(DictionaryTraining.content(pieces, capacity: capacity) == Self.model(pieces, capacity: capacity))
        }
    }

    @Test("a commit's events give a training the same pieces encoded as decoded from a block")
    func piecesFromEncodedEvents() {
        var g = SeededGenerator(seed: 31)
        // Every type, with ints, ids, times and a correction's nested strings (not pieces).
        let events = (0..<400).map { _ in CodecTests.randomEvent(&g) }
        var decoded = DictionaryTraining.Pieces()
        for e in events { decoded.append(piecesOf: e) }
        var encoded = DictionaryTraining.Pieces()
        let batch = EncodedEvents(events)
        batch.appendTrainingPieces(0..<150, to: &encoded)
        batch.appendTrainingPieces(150..<400, to: &encoded)
        #expect(encoded.count > 400)
        #expect(encoded.bytes == decoded.bytes)
        #expect(encoded.ends == decoded.ends)
    }

    @Test("the same pieces make the same dictionary")
    func deterministic() {
        var g = SystemRandomNumberGenerator()
        let pieces = (0..<300).map { _ in Self.piece("t\(Int.random(in: 0..<40, using: &g)) window title here") }
        #expect(
            DictionaryTraining.content(pieces, capacity: 1000) == DictionaryTraining.content(pieces, capacity: 1000))
    }
}
