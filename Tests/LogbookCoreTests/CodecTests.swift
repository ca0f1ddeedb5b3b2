import Testing
@testable import LogbookCore
import LogbookTestSupport

/// The binary encodings: `EventCodec` (canonical form, what an event's hash covers), `BlockBody`
/// (columnar block layout) and the `ByteReader`/`ByteWriter` primitives under both.
@Suite("Codec")
enum CodecTests {
    // MARK: Helpers

    static func decodeEvent(_ bytes: [UInt8]) throws(CodecError) -> Event {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CodecError) in try EventCodec.decode(buffer) }
        }
        return try result.get()
    }

    static func decodeBlock(_ bytes: [UInt8], firstSequence: UInt64) throws(CodecError) -> [Event] {
        var events: [Event] = []
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CodecError) in
                try BlockBody.decode(buffer, firstSequence: firstSequence, into: &events)
            }
        }
        try result.get()
        return events
    }

    /// Runs `body` on a reader over `bytes`; also returns where the reader stopped.
    static func read<T>(
        _ bytes: [UInt8], _ body: (inout ByteReader) throws(CodecError) -> T
    ) throws(CodecError)
        -> (value: T, offset: Int)
    {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CodecError) -> (value: T, offset: Int) in
                var reader = ByteReader(buffer)
                let value = try body(&reader)
                return (value, reader.offset)
            }
        }
        return try result.get()
    }

    static func varint(_ v: UInt64) -> [UInt8] {
        var w = ByteWriter()
        w.varint(v)
        return w.bytes
    }

    /// A random event whose optional envelope parts (subject, actor, duration) are each present
    /// or absent at random, so that every flag combination occurs.
    static func randomEvent<G: RandomNumberGenerator>(_ g: inout G) -> Event {
        var e = EventFactory.random(&g)
        switch g.next() % 3 {
        case 0: e.subject = nil
        case 1: e.subject = EventFactory.user(Int(g.next() % 5))
        default: break
        }
        switch g.next() % 3 {
        case 0: e.actor = nil
        case 1: e.actor = ["agent:laptop", "agent:phone", "\(EventFactory.user(7))", ""][Int(g.next() % 4)]
        default: break
        }
        switch g.next() % 3 {
        case 0: e.duration = nil
        case 1: e.duration = Int64(g.next() % 86_400_000_000)
        default: break
        }
        return e
    }

    /// A batch of `count` events numbered from `firstSequence`, mixing random events with
    /// window samples that repeat a few apps and titles.
    static func randomBatch<G: RandomNumberGenerator>(_ g: inout G, count: Int, firstSequence: UInt64) -> [Event] {
        let apps = ["Code", "Google Chrome", "Slack"]
        let titles = ["main.swift — logbook", "Inbox (3) — mail", "#eng | Slack", "Roadmap 2025 — Docs"]
        var events: [Event] = []
        var recorded = EventFactory.t0.microseconds
        for i in 0..<count {
            var e: Event
            if g.next() % 2 == 0 {
                e = EventFactory.window(
                    &g, user: EventFactory.user(Int(g.next() % 4)), app: apps[Int(g.next() % 3)],
                    title: titles[Int(g.next() % 4)])
                if g.next() % 4 == 0 { e.actor = "agent:laptop" }
                if g.next() % 5 == 0 { e.duration = nil }
            } else {
                e = randomEvent(&g)
            }
            e.sequence = firstSequence + UInt64(i)
            recorded += Int64(g.next() % 5_000_000)
            e.recordedAt = Timestamp(microseconds: recorded)
            events.append(e)
        }
        return events
    }

    /// Events that stress the encoding's corners: extreme integers, every value kind, empty and
    /// odd strings, no payload at all.
    static let edgeEvents: [Event] = {
        let id = UUID128(high: 0x0123_4567_89AB_4DEF, low: 0x8123_4567_89AB_CDEF)
        let all = UUID128(high: .max, low: .max)
        let none = UUID128(high: 0, low: 0)
        return [
            Event(id: none, type: .activityWindow, subject: nil, occurredAt: Timestamp(microseconds: 0), data: []),
            Event(
                sequence: .max, id: all, type: .eventRetracted, subject: all, actor: "",
                occurredAt: .max, recordedAt: .min, duration: .min, data: [Field(.target, .int(.min))]),
            Event(
                sequence: 1, id: id, type: .settingsChanged, subject: nil, actor: String(repeating: "é", count: 300),
                occurredAt: .min, recordedAt: .max, duration: .max,
                data: [Field(.key, .string("")), Field(.value, .string("{\"a\":[1,2,{\"b\":null}]}"))]),
            Event(
                sequence: 1 << 63, id: id, type: .eventCorrected, subject: none,
                occurredAt: Timestamp(microseconds: -1), recordedAt: Timestamp(microseconds: 1), duration: 0,
                data: [
                    Field(.target, .uuid(all)),
                    Field(
                        .set,
                        .fields([
                            Field(.title, .string("(private)")), Field(.billable, .bool(false)), Field(.due, .null),
                            Field(.size, .int(.max)),
                        ])),
                    Field(.reason, .string("a\u{0}b\n\"c\"🙂")),
                ]),
            Event(
                id: id, type: .timeEntryRecorded, subject: id,
                occurredAt: EventFactory.t0,
                data: [
                    Field(.project, .string(String(repeating: "x", count: 5000))),
                    Field(.start, .time(.min)), Field(.end, .time(.max)), Field(.billable, .bool(true)),
                    Field(.size, .double(-0.0)), Field(.days, .double(1.5e300)), Field(.note, .double(.infinity)),
                ]),
        ]
    }()

    /// Bytes that differ from `bytes` by a few random flips, insertions or deletions.
    static func mutate<G: RandomNumberGenerator>(_ bytes: [UInt8], _ g: inout G) -> [UInt8] {
        var b = bytes
        for _ in 0..<(1 + Int(g.next() % 3)) {
            switch b.isEmpty ? 2 : g.next() % 4 {
            case 0, 1:
                b[Int(g.next() % UInt64(b.count))] ^= UInt8(1 + g.next() % 255)
            case 2:
                let at = Int(g.next() % UInt64(b.count + 1))
                let n = 1 + Int(g.next() % 4)
                b.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: at)
            default:
                b.remove(at: Int(g.next() % UInt64(b.count)))
            }
        }
        return b
    }
}

// MARK: - EventCodec

extension CodecTests {
    @Suite("EventCodec round-trips every event")
    struct EventRoundTrip {
        @Test(
            "Decoding the canonical encoding of a random event gives back the whole event",
            arguments: [1, 2, 3] as [UInt64])
        func randomEvents(seed: UInt64) throws {
            var g = SeededGenerator(seed: seed)
            var flagsSeen = Set<UInt8>()
            for _ in 0..<1500 {
                let event = randomEvent(&g)
                flagsSeen.insert(EventCodec.flags(of: event))
                let bytes = EventCodec.encode(event)
                #expect(bytes.first == EventCodec.version)
                let decoded = try decodeEvent(bytes)
                #expect(decoded == event)
                #expect(EventCodec.encode(decoded) == bytes)
            }
            #expect(flagsSeen.count == 8, "every subject/actor/duration combination was exercised")
        }

        @Test(
            "Extreme integers, every value kind and odd strings survive the canonical encoding", arguments: edgeEvents)
        func edges(event: Event) throws {
            #expect(try decodeEvent(EventCodec.encode(event)) == event)
        }
    }

    @Suite("EventCodec is deterministic")
    struct Determinism {
        @Test("Encoding an event twice, or an equal copy of it, gives identical bytes")
        func sameBytes() throws {
            var g = SeededGenerator(seed: 42)
            for _ in 0..<1000 {
                let event = randomEvent(&g)
                let first = EventCodec.encode(event)
                #expect(EventCodec.encode(event) == first)
                let copy = try decodeEvent(first)  // an equal value built by a different path
                #expect(EventCodec.encode(copy) == first)
            }
        }

        @Test("Events that differ in any envelope part encode differently")
        func distinctBytes() {
            var g = SeededGenerator(seed: 43)
            let event = EventFactory.window(&g)
            var variants = [event]
            var v = event; v.sequence += 1; variants.append(v)
            v = event; v.id.low ^= 1; variants.append(v)
            v = event; v.type = .activityAFK; variants.append(v)
            v = event; v.subject = nil; variants.append(v)
            v = event; v.actor = "agent:x"; variants.append(v)
            v = event; v.occurredAt.microseconds += 1; variants.append(v)
            v = event; v.recordedAt.microseconds += 1; variants.append(v)
            v = event; v.duration = nil; variants.append(v)
            v = event; v.data[0].value = .string("Cod"); variants.append(v)
            v = event; v.data.swapAt(0, 1); variants.append(v)
            #expect(Set(variants.map(EventCodec.encode)).count == variants.count)
        }

        @Test("The canonical form of a fixed event is exactly the v1 bytes (the hash chain depends on them)")
        func golden() {
            let event = Event(
                sequence: 1, id: UUID128(high: 0x0011_2233_4455_6677, low: 0x8899_AABB_CCDD_EEFF), type: .activityAFK,
                subject: UUID128(high: 1, low: 2), actor: "ab", occurredAt: Timestamp(microseconds: 1),
                recordedAt: Timestamp(microseconds: -2), duration: 300, data: [Field(.status, .string("afk"))])
            let expected: [UInt8] =
                [1, 2]  // version, type
                + [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF]
                + [1]  // sequence
                + [2]  // occurred-at 1, zig-zag
                + [3]  // recorded-at -2, zig-zag
                + [7]  // flags: subject | actor | duration
                + [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]  // subject, big-endian
                + [2, 0x61, 0x62]  // actor, length-prefixed
                + [0xD8, 0x04]  // duration 300, zig-zag 600
                + [1, 4, 5, 3, 0x61, 0x66, 0x6B]  // one field: status, string tag, "afk"
            #expect(EventCodec.encode(event) == expected)
        }
    }

    // MARK: - BlockBody

    @Suite("BlockBody round-trips batches")
    struct BlockRoundTrip {
        @Test("Decoding a random batch's block body gives back every event, numbered from the first sequence")
        func randomBatches() throws {
            var g = SeededGenerator(seed: 7)
            var flagsSeen = Set<UInt8>()
            for round in 0..<80 {
                let count = round < 5 ? [1, 2, 299, 300, 3][round] : 1 + Int(g.next() % 300)
                let first = 1 + g.next() % (1 << 40)
                let events = randomBatch(&g, count: count, firstSequence: first)
                for e in events { flagsSeen.insert(EventCodec.flags(of: e)) }
                let decoded = try decodeBlock(BlockBody.encode(events), firstSequence: first)
                #expect(decoded.count == events.count)
                #expect(decoded == events, "batch of \(count) from \(first)")
                // Byte-exact too: String's == treats canonically equivalent text as equal.
                #expect(decoded.map(EventCodec.encode) == events.map(EventCodec.encode))
            }
            #expect(flagsSeen.count == 8, "every subject/actor/duration combination was exercised")
        }

        @Test("Sequences come from firstSequence, not from the stored events")
        func sequencesFromFirst() throws {
            var g = SeededGenerator(seed: 8)
            let events = randomBatch(&g, count: 10, firstSequence: 1)
            let decoded = try decodeBlock(BlockBody.encode(events), firstSequence: 1000)
            #expect(decoded.map(\.sequence) == Array(1000..<1010))
            var expected = events
            for i in expected.indices { expected[i].sequence = 1000 + UInt64(i) }
            #expect(decoded == expected)
        }

        @Test("A batch of edge-case events survives the block layout")
        func edgeBatch() throws {
            var events = edgeEvents
            for i in events.indices { events[i].sequence = 77 + UInt64(i) }
            #expect(try decodeBlock(BlockBody.encode(events), firstSequence: 77) == events)
        }

        @Test("An empty block decodes to no events")
        func empty() throws {
            #expect(try decodeBlock(BlockBody.encode([]), firstSequence: 1).isEmpty)
        }

        @Test("Decoding into a non-empty array replaces its contents")
        func replacesContents() throws {
            var g = SeededGenerator(seed: 9)
            let a = randomBatch(&g, count: 20, firstSequence: 1)
            let b = randomBatch(&g, count: 5, firstSequence: 21)
            var events = a
            let bytes = BlockBody.encode(b)
            let result = bytes.withUnsafeBytes { buffer in
                Result { () throws(CodecError) in try BlockBody.decode(buffer, firstSequence: 21, into: &events) }
            }
            try result.get()
            #expect(events == b)
        }

        @Test("Block after block into one array: no field of an earlier event survives; copies kept outside stay whole")
        func reusedArray() throws {
            var g = SeededGenerator(seed: 10)
            var events: [Event] = []
            var kept: [Event] = []
            var keptExpected: [Event] = []
            var first: UInt64 = 1
            for round in 0..<40 {
                let batch = randomBatch(&g, count: 1 + Int(g.next() % 60), firstSequence: first)
                let bytes = BlockBody.encode(batch)
                let result = bytes.withUnsafeBytes { buffer in
                    Result { () throws(CodecError) in try BlockBody.decode(buffer, firstSequence: first, into: &events)
                    }
                }
                try result.get()
                #expect(events == batch, "round \(round)")
                #expect(events.map(EventCodec.encode) == batch.map(EventCodec.encode))
                // A reader that keeps an event: the next decode must not write into its payload.
                kept.append(events[0])
                keptExpected.append(batch[0])
                first += UInt64(batch.count)
            }
            #expect(kept == keptExpected)

            // A body that fails to decode leaves no events behind, old or half-made.
            var cut = BlockBody.encode(randomBatch(&g, count: 10, firstSequence: first))
            cut.removeLast(3)
            let failed = cut.withUnsafeBytes { buffer in
                Result { () throws(CodecError) in try BlockBody.decode(buffer, firstSequence: first, into: &events) }
            }
            #expect(throws: CodecError.self) { try failed.get() }
            #expect(events.isEmpty)
        }

        @Test("The string cache gives back exactly the bytes asked for, across evictions, and refuses bad UTF-8")
        func stringCache() throws {
            var g = SeededGenerator(seed: 12)
            var cache = StringCache()
            cache.enable()
            // More strings than slots, each asked for several times: hits, misses and slots
            // taken over by other strings all happen.
            let strings = (0..<(3 * StringCache.slotCount)).map { i in "s\(i)-" + String(repeating: "x", count: i % 40)
            }
            for _ in 0..<4 * strings.count {
                let s = strings[Int(g.next() % UInt64(strings.count))]
                let bytes = Array(s.utf8)
                let got = bytes.withUnsafeBytes { cache.string($0) }
                #expect(got.map { Array($0.utf8) } == bytes)
            }
            for bad: [UInt8] in [[0xFF], [0x61, 0xC3], [0xED, 0xA0, 0x80]] {
                #expect(bad.withUnsafeBytes { cache.string($0) } == nil)
            }
        }

        @Test("A string repeated across a block, in payloads, actors or users, is stored once")
        func repeatedStringsStoredOnce() throws {
            var g = SeededGenerator(seed: 10)
            let title = "Quarterly budget — Google Sheets (unique marker)"
            let actor = "agent:device-with-a-long-unique-name"
            let user = EventFactory.user(33)
            var events: [Event] = []
            for i in 0..<200 {
                var e = EventFactory.window(&g, user: user, app: "Code", title: title)
                e.actor = actor
                e.sequence = 1 + UInt64(i)
                events.append(e)
            }
            let bytes = BlockBody.encode(events)
            func occurrences(_ needle: [UInt8]) -> Int {
                guard needle.count <= bytes.count else { return 0 }
                return (0...(bytes.count - needle.count)).count {
                    bytes[$0..<($0 + needle.count)].elementsEqual(needle)
                }
            }
            var userBytes: [UInt8] = []
            user.append(to: &userBytes)
            #expect(occurrences(Array(title.utf8)) == 1)
            #expect(occurrences(Array(actor.utf8)) == 1)
            #expect(occurrences(userBytes) == 1)
            #expect(try decodeBlock(bytes, firstSequence: 1) == events)
        }

        @Test("Strings that are canonically equivalent but differ in bytes keep their own bytes through a block")
        func byteExactStrings() throws {
            // Each pair is == as Swift Strings (Unicode canonical equivalence) but not byte-equal,
            // and an event's hash covers the bytes.
            let pairs = [("caf\u{E9}", "cafe\u{301}"), ("\u{2126}", "\u{3A9}"), ("\u{AC00}", "\u{1100}\u{1161}")]
            var g = SeededGenerator(seed: 12)
            var events: [Event] = []
            for (a, b) in pairs {
                #expect(a == b && Array(a.utf8) != Array(b.utf8))
                for text in [a, b, a] {
                    var e = EventFactory.window(&g, app: text, title: "title " + text)
                    e.actor = "agent:" + text
                    e.sequence = 1 + UInt64(events.count)
                    events.append(e)
                }
            }
            let decoded = try decodeBlock(BlockBody.encode(events), firstSequence: 1)
            #expect(decoded.count == events.count)
            for (d, e) in zip(decoded, events) {
                #expect(d.actor.map { Array($0.utf8) } == e.actor.map { Array($0.utf8) })
                #expect(EventCodec.encode(d) == EventCodec.encode(e))
            }
        }

        @Test("Encoding the same batch twice gives identical bytes")
        func deterministic() {
            var g = SeededGenerator(seed: 11)
            for _ in 0..<20 {
                let events = randomBatch(&g, count: 1 + Int(g.next() % 100), firstSequence: 1)
                #expect(BlockBody.encode(events) == BlockBody.encode(events))
            }
        }
    }

    // MARK: - Corruption

    @Suite("Corrupt bytes never crash the decoders")
    struct Corruption {
        @Test("Every proper prefix of a canonical event fails to decode with a CodecError")
        func eventTruncation() {
            var g = SeededGenerator(seed: 100)
            var prefixes = 0
            var decoded: [String] = []
            for _ in 0..<300 {
                let bytes = EventCodec.encode(randomEvent(&g))
                for n in 0..<bytes.count {
                    prefixes += 1
                    if (try? decodeEvent(Array(bytes[..<n]))) != nil { decoded.append("\(n) of \(bytes.count)") }
                }
            }
            #expect(prefixes > 10_000)
            #expect(decoded.isEmpty, "prefixes that decoded: \(decoded.prefix(10))")
        }

        @Test("A canonical event with bytes appended fails with trailingBytes")
        func eventTrailing() {
            var g = SeededGenerator(seed: 101)
            for _ in 0..<100 {
                let bytes = EventCodec.encode(randomEvent(&g))
                let error = #expect(throws: CodecError.self) { try decodeEvent(bytes + [UInt8(g.next() % 256)]) }
                #expect(error?.code == .trailingBytes)
                #expect(error?.offset == bytes.count)
            }
        }

        @Test("A canonical event of another format version fails with unknownVersion")
        func eventVersion() {
            var g = SeededGenerator(seed: 102)
            var bytes = EventCodec.encode(randomEvent(&g))
            for v in [0, 2, 255] as [UInt8] {
                bytes[0] = v
                let error = #expect(throws: CodecError.self) { try decodeEvent(bytes) }
                #expect(error?.code == .unknownVersion)
            }
        }

        @Test("Flipped, inserted or deleted bytes in a canonical event either throw or decode to a re-encodable event")
        func eventMutations() {
            var g = SeededGenerator(seed: 103)
            var decodedSome = 0
            for _ in 0..<400 {
                let bytes = EventCodec.encode(randomEvent(&g))
                for _ in 0..<25 {
                    let corrupt = mutate(bytes, &g)
                    guard let event = try? decodeEvent(corrupt) else { continue }
                    decodedSome += 1
                    // Whatever decodes must be a value the codec itself can carry.
                    let again = EventCodec.encode(event)
                    #expect((try? decodeEvent(again)).map(EventCodec.encode) == again)
                }
            }
            #expect(decodedSome > 0, "some corruptions (e.g. inside string bytes) still decode")
        }

        @Test("Every proper prefix of a small block body fails to decode with a CodecError")
        func blockTruncation() {
            var g = SeededGenerator(seed: 104)
            var decoded: [String] = []
            for _ in 0..<25 {
                let first = 1 + g.next() % 1000
                let bytes = BlockBody.encode(randomBatch(&g, count: 1 + Int(g.next() % 12), firstSequence: first))
                for n in 0..<bytes.count where (try? decodeBlock(Array(bytes[..<n]), firstSequence: first)) != nil {
                    decoded.append("\(n) of \(bytes.count)")
                }
            }
            #expect(decoded.isEmpty, "prefixes that decoded: \(decoded.prefix(10))")
        }

        @Test("Random prefixes and mutations of large block bodies either throw or decode to a re-encodable batch")
        func blockMutations() {
            var g = SeededGenerator(seed: 105)
            var decodedSome = 0
            for _ in 0..<30 {
                let first = 1 + g.next() % 1000
                let events = randomBatch(&g, count: 1 + Int(g.next() % 300), firstSequence: first)
                let bytes = BlockBody.encode(events)
                for _ in 0..<15 {
                    let n = Int(g.next() % UInt64(bytes.count))
                    #expect(throws: CodecError.self) { try decodeBlock(Array(bytes[..<n]), firstSequence: first) }
                }
                for _ in 0..<15 {
                    let corrupt = mutate(bytes, &g)
                    guard let decoded = try? decodeBlock(corrupt, firstSequence: first) else { continue }
                    decodedSome += 1
                    let again = BlockBody.encode(decoded)
                    #expect((try? decodeBlock(again, firstSequence: first)).map(BlockBody.encode) == again)
                }
            }
            #expect(decodedSome > 0, "some corruptions (e.g. inside id or string bytes) still decode")
        }

        @Test("Random byte strings never crash either decoder")
        func randomBytes() {
            var g = SeededGenerator(seed: 106)
            var decoded = 0
            for i in 0..<6000 {
                var bytes = (0..<Int(g.next() % 200)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
                if i % 2 == 0, !bytes.isEmpty {
                    bytes[0] = EventCodec.version
                    if bytes.count > 1 { bytes[1] = 1 + UInt8(g.next() % 24) }
                }
                if (try? decodeEvent(bytes)) != nil { decoded += 1 }
                if i % 3 == 0, !bytes.isEmpty { bytes[0] = UInt8(g.next() % 4) }  // small event counts
                if (try? decodeBlock(bytes, firstSequence: 1)) != nil { decoded += 1 }
            }
            // Random bytes almost never form a complete encoding; this pins that nothing is lenient.
            #expect(decoded < 60)
        }
    }

    @Suite("Unknown codes are refused, not guessed")
    struct UnknownCodes {
        /// The golden event of `Determinism`: flags at byte 21, one payload field whose key is at byte 44.
        static let event = Event(
            sequence: 1, id: UUID128(high: 0x0011_2233_4455_6677, low: 0x8899_AABB_CCDD_EEFF), type: .activityAFK,
            subject: UUID128(high: 1, low: 2), actor: "ab", occurredAt: Timestamp(microseconds: 1),
            recordedAt: Timestamp(microseconds: -2), duration: 300, data: [Field(.status, .string("afk"))])

        static func expectUnknownTag(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
            let error = #expect(throws: CodecError.self, sourceLocation: sourceLocation) { try decodeEvent(bytes) }
            #expect(error?.code == .unknownTag, sourceLocation: sourceLocation)
        }

        @Test("A canonical event with an unknown type, flag bit, field key or value tag fails with unknownTag")
        func event() throws {
            let bytes = EventCodec.encode(Self.event)
            #expect(try decodeEvent(bytes) == Self.event)
            #expect(bytes[21] == 7 && bytes[44] == FieldKey.status.rawValue && bytes[45] == 5)
            for (offset, value) in [
                (1, 0), (1, 25), (1, 255), (21, 8), (21, 0x87), (44, 0), (44, 36), (44, 255), (45, 9), (45, 255),
            ]
                as [(Int, UInt8)]
            {
                var corrupt = bytes
                corrupt[offset] = value
                Self.expectUnknownTag(corrupt)
            }
        }

        @Test("Replacement fields nested more than one level deep fail with unknownTag")
        func nesting() throws {
            let one = Event(
                id: UUID128(high: 3, low: 4), type: .eventCorrected, subject: nil, occurredAt: EventFactory.t0,
                data: [Field(.set, .fields([Field(.title, .string("x"))]))])
            #expect(try decodeEvent(EventCodec.encode(one)) == one)
            var two = one
            two.data = [Field(.set, .fields([Field(.title, .fields([Field(.app, .string("x"))]))]))]
            Self.expectUnknownTag(EventCodec.encode(two))
        }

        @Test("A block with an unknown type code or flag bit fails with unknownTag")
        func block() throws {
            var g = SeededGenerator(seed: 400)
            let events = randomBatch(&g, count: 5, firstSequence: 1)
            let bytes = BlockBody.encode(events)
            // Layout: count (1 byte), 5 ids, 5 type codes, 5 flag bytes.
            #expect(bytes[0] == 5)
            #expect(Array(bytes[81..<86]) == events.map(\.type.rawValue))
            for (offset, value) in [(81, 0), (83, 25), (85, 255), (86, 8), (88, 0x80), (90, 0xFF)] as [(Int, UInt8)] {
                var corrupt = bytes
                corrupt[offset] = value
                let error = #expect(throws: CodecError.self) { try decodeBlock(corrupt, firstSequence: 1) }
                #expect(error?.code == .unknownTag)
                #expect(error?.offset == offset)
            }
        }
    }

    // MARK: - ByteReader / ByteWriter

    @Suite("ByteReader refuses malformed varints and impossible counts")
    struct Reader {
        @Test(
            "Varints round-trip through ByteWriter with the minimal LEB128 length",
            arguments: [
                (0, 1), (1, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (1 << 35, 6), (UInt64(1) << 63, 10),
                (.max, 10),
            ] as [(UInt64, Int)])
        func varintRoundTrip(value: UInt64, length: Int) throws {
            let bytes = varint(value)
            #expect(bytes.count == length)
            let (decoded, offset) = try read(bytes) { (r: inout ByteReader) throws(CodecError) in try r.varint() }
            #expect(decoded == value)
            #expect(offset == length)
        }

        @Test(
            "Signed varints use zig-zag so small magnitudes stay short",
            arguments: [(0, [0]), (-1, [1]), (1, [2]), (-2, [3]), (63, [126]), (-64, [127]), (64, [0x80, 1])]
                as [(Int64, [UInt8])])
        func zigzag(value: Int64, bytes: [UInt8]) throws {
            var w = ByteWriter()
            w.svarint(value)
            #expect(w.bytes == bytes)
            #expect(try read(bytes) { (r: inout ByteReader) throws(CodecError) in try r.svarint() }.value == value)
        }

        @Test("Extreme signed values round-trip")
        func zigzagExtremes() throws {
            var g = SeededGenerator(seed: 200)
            for v in [Int64.min, .max, .min + 1, .max - 1] + (0..<500).map({ _ in Int64(bitPattern: g.next()) }) {
                var w = ByteWriter()
                w.svarint(v)
                #expect(w.bytes.count <= 10)
                #expect(try read(w.bytes) { (r: inout ByteReader) throws(CodecError) in try r.svarint() }.value == v)
            }
        }

        @Test(
            "Varints longer than ten bytes or above 64 bits fail with outOfRange",
            arguments: [
                [UInt8](repeating: 0x80, count: 10) + [0x00],  // 11 bytes
                [UInt8](repeating: 0xFF, count: 10) + [0x01],  // 11 bytes
                [UInt8](repeating: 0xFF, count: 11),
                [UInt8](repeating: 0xFF, count: 9) + [0x02],  // 2^64 and above
                [UInt8](repeating: 0x80, count: 9) + [0x7F],
                [UInt8](repeating: 0xFF, count: 40),
            ])
        func overlongVarint(bytes: [UInt8]) {
            let error = #expect(throws: CodecError.self) {
                try read(bytes) { (r: inout ByteReader) throws(CodecError) in try r.varint() }
            }
            #expect(error?.code == .outOfRange)
        }

        @Test(
            "A varint cut short fails with truncated",
            arguments: [[], [0x80], [0xFF, 0xFF], [0x80, 0x80, 0x80]] as [[UInt8]])
        func truncatedVarint(bytes: [UInt8]) {
            let error = #expect(throws: CodecError.self) {
                try read(bytes) { (r: inout ByteReader) throws(CodecError) in try r.varint() }
            }
            #expect(error?.code == .truncated)
            #expect(error?.offset == bytes.count)
        }

        @Test(
            "A count the remaining bytes cannot hold fails with outOfRange before anything is allocated",
            arguments: [
                (4, 1, 3), (2, 16, 31), (UInt64(1) << 62, 1, 100), (.max, 1, 0), (.max, 20, 1000), (1, 2, 1),
            ] as [(UInt64, Int, Int)])
        func countTooLarge(count: UInt64, unit: Int, available: Int) {
            let bytes = varint(count) + [UInt8](repeating: 0xAB, count: available)
            let error = #expect(throws: CodecError.self) {
                try read(bytes) { (r: inout ByteReader) throws(CodecError) in try r.count(unit: unit) }
            }
            #expect(error?.code == .outOfRange)
            #expect(error?.offset == varint(count).count)
        }

        @Test(
            "A count that exactly fits the remaining bytes is accepted",
            arguments: [(3, 1, 3), (2, 16, 32), (0, 20, 0)] as [(UInt64, Int, Int)])
        func countFits(count: UInt64, unit: Int, available: Int) throws {
            let bytes = varint(count) + [UInt8](repeating: 0, count: available)
            let (value, _) = try read(bytes) { (r: inout ByteReader) throws(CodecError) in try r.count(unit: unit) }
            #expect(value == Int(count))
        }

        @Test("A string longer than the bytes left fails with outOfRange; invalid UTF-8 fails with invalidText")
        func strings() throws {
            let long = #expect(throws: CodecError.self) {
                try read(varint(1 << 40) + Array("abc".utf8)) { (r: inout ByteReader) throws(CodecError) in
                    try r.string()
                }
            }
            #expect(long?.code == .outOfRange)
            let invalid = #expect(throws: CodecError.self) {
                try read([2, 0xC3, 0x28]) { (r: inout ByteReader) throws(CodecError) in try r.string() }
            }
            #expect(invalid?.code == .invalidText)
            var w = ByteWriter()
            w.string("日本 🙂")
            #expect(try read(w.bytes) { (r: inout ByteReader) throws(CodecError) in try r.string() }.value == "日本 🙂")
        }

        @Test("Fixed-width reads past the end fail with truncated")
        func fixedWidth() {
            let short: [UInt8] = [1, 2, 3]
            #expect(throws: CodecError.self) {
                try read(short) { (r: inout ByteReader) throws(CodecError) in try r.u32() }
            }
            #expect(throws: CodecError.self) {
                try read(short) { (r: inout ByteReader) throws(CodecError) in try r.u64() }
            }
            #expect(throws: CodecError.self) {
                try read(short) { (r: inout ByteReader) throws(CodecError) in try r.uuid() }
            }
            #expect(throws: CodecError.self) {
                try read(short) { (r: inout ByteReader) throws(CodecError) in try r.bytes(4) }
            }
            #expect(throws: CodecError.self) { try read([]) { (r: inout ByteReader) throws(CodecError) in try r.u8() } }
        }

        @Test("Huge counts inside an event or a block fail with outOfRange instead of allocating")
        func hugeCountsInDecoders() throws {
            // A block claiming 2^62 events.
            let block = #expect(throws: CodecError.self) {
                try decodeBlock(varint(1 << 62) + [0, 0, 0], firstSequence: 1)
            }
            #expect(block?.code == .outOfRange)
            // A block whose string table claims 2^50 strings. Three events without payload strings
            // end in an empty string table (0) and three empty payloads (0, 0, 0).
            let events = (1...3).map {
                Event(
                    sequence: UInt64($0), id: UUID128(high: 9, low: UInt64($0)), type: .userDeactivated,
                    subject: EventFactory.user($0), occurredAt: EventFactory.t0, data: [])
            }
            let body = BlockBody.encode(events)
            #expect(body.suffix(4) == [0, 0, 0, 0])
            #expect(try decodeBlock(body, firstSequence: 1) == events)
            let table = #expect(throws: CodecError.self) {
                try decodeBlock(Array(body.dropLast(4)) + varint(1 << 50) + [1, 0x61, 0, 0, 0], firstSequence: 1)
            }
            #expect(table?.code == .outOfRange)
            // An event whose payload claims 2^60 fields.
            var event = EventCodec.encode(
                Event(
                    id: UUID128(high: 1, low: 2), type: .userDeactivated, subject: nil, occurredAt: EventFactory.t0,
                    data: []))
            #expect(event.last == 0)
            event.removeLast()
            let fields = #expect(throws: CodecError.self) { try decodeEvent(event + varint(1 << 60) + [1, 0]) }
            #expect(fields?.code == .outOfRange)
        }
    }
}
