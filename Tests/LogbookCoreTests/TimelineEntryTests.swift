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
            var chunk = TimelineChunk()
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
            entry.encode(into: &w)
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
}
