import LogbookTestSupport
import Testing

@testable import LogbookCore

@Suite("Timeline entries")
struct TimelineEntryTests {
    static func entries() -> [TimelineEntry] {
        var g = SeededGenerator(seed: 3)
        let user = EventFactory.user(1)
        func event(_ type: EventType, duration: Int64?, _ data: [Field]) -> Event {
            Event(
                sequence: 7, id: .random(using: &g), type: type, subject: user, actor: "agent:laptop",
                occurredAt: EventFactory.t0, recordedAt: Timestamp(microseconds: EventFactory.t0.microseconds + 5),
                duration: duration, data: data)
        }
        let window = [Field(.app, .string("Code")), Field(.title, .string("main.swift — ünïcode"))]
        var corrected = TimelineEntry(event: event(.activityWindow, duration: 5_000_000, window), category: "Dev")
        corrected.corrections = [.random(using: &g), .random(using: &g)]
        return [
            TimelineEntry(event: event(.activityWindow, duration: 0, window), category: "Uncategorized"),
            TimelineEntry(event: event(.activityWindow, duration: 12_345_678, window), category: nil),
            TimelineEntry(event: event(.activityAFK, duration: -3, [Field(.status, .string("afk"))]), category: nil),
            TimelineEntry(event: event(.attendanceClockIn, duration: nil, [Field(.note, .string(""))]), category: nil),
            corrected,
        ]
    }

    @Test("an entry decodes to what was encoded, its time and sequence taken from the record's prefix")
    func roundTrip() throws {
        for entry in Self.entries() {
            var chunk = TimelineChunk(hour: Projector.chunk(entry.occurredAt.microseconds))
            try chunk.insert(entry)
            let records = try chunk.records()
            #expect(records.count == 1)
            #expect(records[0].occurred == entry.occurredAt.microseconds && records[0].end == entry.end)
            #expect(try chunk.decode(records[0]) == entry)
        }
    }

    @Test("truncated or corrupt entries are typed errors, never traps")
    func corrupt() throws {
        for entry in Self.entries() {
            var w = ByteWriter(capacity: 128)
            w.group(capacity: entry.encodedBound) { entry.encode(into: &$0) }
            let bytes = w.bytes
            let (occurred, end) = (entry.occurredAt.microseconds, entry.end)
            for n in 0..<bytes.count {
                #expect(throws: CodecError.self) {
                    try bytes[0..<n].withUnsafeBytes {
                        try TimelineEntry(decoding: $0, occurred: occurred, sequence: 7, end: end)
                    }
                }
            }
            var unknownFlag = bytes
            unknownFlag[1] |= 0x80
            #expect(throws: CodecError.self) {
                try unknownFlag.withUnsafeBytes {
                    try TimelineEntry(decoding: $0, occurred: occurred, sequence: 7, end: end)
                }
            }
            if entry.duration.map({ $0 >= 0 }) == true {
                // An end before the start cannot hold a duration.
                #expect(throws: CodecError.self) {
                    try bytes.withUnsafeBytes {
                        try TimelineEntry(decoding: $0, occurred: occurred, sequence: 7, end: occurred - 1)
                    }
                }
            }
        }
    }

    @Test("a chunk keeps records in (occurred-at, sequence) order whatever the insert order; replace and remove")
    func chunkOrder() throws {
        var g = SeededGenerator(seed: 9)
        let hour = Projector.chunk(EventFactory.t0.microseconds)
        let base = Int64(hour) * Projector.chunkMicros
        var entries: [TimelineEntry] = []
        for i in 0..<50 {
            let event = Event(
                sequence: UInt64(i + 1), id: .random(using: &g), type: .activityWindow, subject: EventFactory.user(1),
                occurredAt: Timestamp(microseconds: base + Int64(g.next() % 3_600_000_000)),
                duration: Int64(g.next() % 90_000_000_000),
                data: [Field(.app, .string("App \(i % 3)")), Field(.title, .string(String(repeating: "t", count: i)))])
            entries.append(TimelineEntry(event: event, category: i % 2 == 0 ? "Dev" : nil))
        }
        var chunk = TimelineChunk(hour: hour)
        for e in entries { try chunk.insert(e) }
        try chunk.settle()
        let sorted = entries.sorted {
            ($0.occurredAt.microseconds, $0.sequence) < ($1.occurredAt.microseconds, $1.sequence)
        }
        #expect(try chunk.records().map { try chunk.decode($0) } == sorted)
        #expect(try chunk.entries(overlapping: base, base + Projector.chunkMicros) == sorted)

        var corrected = sorted[10]
        corrected.data = [Field(.app, .string("Other")), Field(.title, .string("a much longer title than before"))]
        try chunk.replace(corrected.sequence, with: corrected)
        try chunk.replace(sorted[20].sequence, with: nil)
        var expected = sorted
        expected[10] = corrected
        expected.remove(at: 20)
        #expect(try chunk.records().map { try chunk.decode($0) } == expected)
        #expect(try chunk.entry(sorted[20].sequence) == nil)

        // Late records merged in batches between inserts (as turns do) land where one at a
        // time would put them; settling twice changes nothing.
        var batched = TimelineChunk(hour: hour)
        for (i, e) in entries.enumerated() {
            try batched.insert(e)
            if i % 7 == 6 { try batched.settle() }
        }
        try batched.settle()
        try batched.settle()
        #expect(try batched.records().map { try batched.decode($0) } == sorted)

        // An entry outside the chunk's hour is refused; cut-off chunk bytes are typed errors.
        var early = sorted[0]
        early.occurredAt = Timestamp(microseconds: base - 1)
        #expect(throws: CodecError.self) { try chunk.insert(early) }
        // A span that would put the end past the largest instant, in a chunk near it.
        var huge = ByteWriter(capacity: 16)
        huge.u32(0)
        huge.varint(UInt64(Int64.max))
        huge.varint(1)
        huge.varint(0)
        let last = huge.bytes.withUnsafeBytes { TimelineChunk($0, hour: Int32.max) }
        #expect(throws: CodecError.self) { _ = try last.records() }
        for n in [1, 3, 5, chunk.bytes.count / 2, chunk.bytes.count - 1] {
            let cut = chunk.bytes.withUnsafeBytes {
                TimelineChunk(UnsafeRawBufferPointer(rebasing: $0[0..<n]), hour: hour)
            }
            #expect(throws: CodecError.self) { _ = try cut.records() }
        }
    }

    @Test("a sample's record and daily figures from its encoded bytes equal the decoded entry's")
    func encodedSample() throws {
        var g = SeededGenerator(seed: 12)
        let hour = Projector.chunk(EventFactory.t0.microseconds)
        let base = Int64(hour) * Projector.chunkMicros
        let day = base - base % 86_400_000_000
        let bounds = day..<(day + 86_400_000_000)
        func text(_ v: Value?) -> String? { if case .string(let s)? = v { s } else { nil } }
        for i in 0..<64 {
            let fields: [Field] =
                [Field(.app, .string(["Code", "Slack", "ünïcode", ""][i % 4])), Field(.title, .string("t\(i)"))]
                + (i % 3 == 0 ? [Field(.url, .string("https://x.example/\(i)"))] : [])
            let duration: Int64? = [nil, 0, Int64(g.next() % 90_000_000_000), -5][i % 4]
            let event = Event(
                sequence: UInt64(i + 1), id: .random(using: &g), type: .activityWindow, subject: EventFactory.user(1),
                occurredAt: Timestamp(microseconds: base + Int64(g.next() % 3_600_000_000)), duration: duration,
                data: fields)
            let category = ["Dev", TenantSettings.uncategorized][i % 2]
            let entry = TimelineEntry(event: event, category: category)
            let encoded = EncodedEvents([event])
            let sample = try encoded.tails.withUnsafeBytes { tails in
                let tail = EncodedTail(tails)
                let strings = EncodedSample.strings(in: tail.payload)
                #expect(strings.app.map { String(decoding: $0, as: UTF8.self) } == text(entry[.app]))
                #expect(strings.title.map { String(decoding: $0, as: UTF8.self) } == text(entry[.title]))
                let sample = EncodedSample(
                    sequence: event.sequence, id: event.id, occurredMicros: event.occurredAt.microseconds,
                    duration: tail.duration, payload: tail.payload, app: text(entry[.app]),
                    category: category)
                var a = TimelineChunk(hour: hour)
                var b = TimelineChunk(hour: hour)
                try a.insert(entry)
                try b.insert(sample)
                #expect(a.bytes == b.bytes)
                var fromEntry = DailyAggregate()
                var fromSample = DailyAggregate()
                entry.count(into: &fromEntry, bounds: bounds)
                sample.count(into: &fromSample, bounds: bounds)
                #expect(fromEntry == fromSample)
                return sample
            }
            #expect(sample.end == entry.end)
        }
        // An app that is not a string counts as none, as it does for a decoded entry.
        var w = ByteWriter(capacity: 16)
        w.varint(2)
        w.u8(FieldKey.app.rawValue)
        w.u8(EventCodec.Tag.int)
        w.svarint(3)
        w.u8(FieldKey.title.rawValue)
        w.u8(EventCodec.Tag.string)
        w.string("t")
        let read = w.bytes.withUnsafeBytes { p in
            let s = EncodedSample.strings(in: p)
            return (
                s.app.map { String(decoding: $0, as: UTF8.self) }, s.title.map { String(decoding: $0, as: UTF8.self) }
            )
        }
        #expect(read.0 == nil && read.1 == "t")
    }
}
