import LogbookCrypto
import LogbookTestSupport
import Testing

@testable import LogbookCore

/// Timeline records and event hashes are encoded through a cursor into reusable room that
/// grows when a value needs more: what they produce must not depend on the room's size.
@Suite("Encoding through reusable room")
struct EncodingScratchTests {
    /// An event with a payload far larger than the room it starts with.
    static func large(_ g: inout SeededGenerator, sequence: UInt64) -> Event {
        let note = String(repeating: "héllo wörld ", count: 2_000)  // 26,000 bytes of UTF-8
        return Event(
            sequence: sequence, id: .random(using: &g), type: .attendanceClockOut, subject: EventFactory.user(2),
            actor: "agent:" + String(repeating: "x", count: 300), occurredAt: EventFactory.t0,
            recordedAt: Timestamp(microseconds: EventFactory.t0.microseconds + 2_000),
            data: [Field(.report, .string(note))])
    }

    @Test("records of entries larger than the room decode to the entries, before and after it grew")
    func timelineRecords() throws {
        var g = SeededGenerator(seed: 11)
        let scratch = EncodingScratch(capacity: 8)
        let small = TimelineEntryTests.entries()[0]
        var big = TimelineEntry(event: Self.large(&g, sequence: 8), category: nil)
        big.occurredAt = Timestamp(microseconds: small.occurredAt.microseconds + 1)
        var after = small
        after.sequence = 9
        after.occurredAt = Timestamp(microseconds: small.occurredAt.microseconds + 2)
        var chunk = TimelineChunk(hour: Projector.chunk(small.occurredAt.microseconds))
        for entry in [small, big, after] { try chunk.insert(entry, scratch: scratch) }
        let decoded = try chunk.records().map { try chunk.decode($0) }
        #expect(decoded == [small, big, after])
    }

    @Test("an event's hash is SHA-256 over 0x00 and its canonical bytes, whatever the room")
    func eventHashes() throws {
        var g = SeededGenerator(seed: 12)
        // Random events of every type (nested correction sets among them) and a large one.
        let events = (0..<50).map { _ in EventFactory.random(&g) } + [Self.large(&g, sequence: 2)]
        let scratch = EncodingScratch(capacity: 8)
        var sha = SHA256()
        for e in events + events {
            let expected = ([ChainHash.leafPrefix] + EventCodec.encode(e)).withUnsafeBytes { sha.hash($0) }
            #expect(ChainHash.event(e, scratch: scratch) == expected)
        }
    }
}
