import Testing
@testable import LogbookCore
import LogbookTestSupport

/// `EncodedEvents`: the commit path's form of a batch must give exactly the bytes and hashes
/// that the events themselves give, or the log would depend on which path wrote it.
@Suite("Encoded events")
struct EncodedEventsTests {
    /// Random batches, edge cases included, with a recorded-at of the commit's.
    static func batches() -> [[Event]] {
        var g = SeededGenerator(seed: 41)
        var out: [[Event]] = [CodecTests.edgeEvents]
        for round in 0..<60 {
            let count = round < 3 ? [1, 2, 300][round] : 1 + Int(g.next() % 300)
            out.append(CodecTests.randomBatch(&g, count: count, firstSequence: 1))
        }
        return out
    }

    @Test("a block body encoded from the encoded form is byte for byte the body of the events")
    func sameBody() {
        let recordedAt = Timestamp(microseconds: EventFactory.t0.microseconds + 123_456)
        for events in Self.batches() {
            let encoded = EncodedEvents(events)
            #expect(encoded.count == events.count)
            #expect(
                BlockBody.encode(encoded, 0..<events.count, recordedAt: recordedAt)
                    == BlockBody.encode(events[...], recordedAt: recordedAt))
            // A part of the batch, as when a commit splits it into blocks.
            let part = events.count / 3..<events.count
            #expect(
                BlockBody.encode(encoded, part, recordedAt: recordedAt)
                    == BlockBody.encode(events[part], recordedAt: recordedAt))
        }
    }

    @Test("each event's hash from the encoded form is its hash; and each decodes back to the event")
    func sameHashes() {
        let scratch = EncodingScratch(capacity: 16)
        let recordedAt = Timestamp(microseconds: 1_700_000_000_000_123)
        for events in Self.batches() {
            let encoded = EncodedEvents(events)
            encoded.tails.withUnsafeBytes { tails in
                for i in events.indices {
                    let tail = UnsafeRawBufferPointer(rebasing: tails[encoded.starts[i]..<encoded.starts[i + 1]])
                    let sequence = 1000 + UInt64(i)
                    #expect(
                        ChainHash.event(
                            encoded, i, tail: tail, sequence: sequence, recordedAt: recordedAt, scratch: scratch)
                            == ChainHash.event(events[i], sequence: sequence, recordedAt: recordedAt, scratch: scratch))
                }
            }
            for i in events.indices {
                var expected = events[i]
                expected.sequence = 7 + UInt64(i)
                expected.recordedAt = recordedAt
                #expect(
                    EventCodec.encode(encoded.event(i, sequence: 7 + UInt64(i), recordedAt: recordedAt))
                        == EventCodec.encode(expected))
            }
        }
    }

    @Test("batches joined and events picked keep every event whole and in order")
    func joinAndSelect() {
        let all = Self.batches()
        var joined = EncodedEvents()
        var events: [Event] = []
        for batch in all.prefix(5) {
            joined.append(contentsOf: EncodedEvents(batch))
            events += batch
        }
        #expect(joined.ids == events.map(\.id))
        let recordedAt = Timestamp(microseconds: 5)
        #expect(
            BlockBody.encode(joined, 0..<events.count, recordedAt: recordedAt)
                == BlockBody.encode(events[...], recordedAt: recordedAt))
        let picked = stride(from: events.count - 1, through: 0, by: -3).map { $0 }
        #expect(
            BlockBody.encode(joined.selecting(picked), 0..<picked.count, recordedAt: recordedAt)
                == BlockBody.encode(picked.map { events[$0] }[...], recordedAt: recordedAt))
    }
}
