import Testing
@testable import LogbookCore
import LogbookTestSupport

/// `EncodedEvents`: the form a batch reaches its commit in. Its blocks must decode to the
/// events it was made from and its hashes equal the events' own, or the log would depend on
/// which path wrote it.
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

    @Test("a block body encoded from the encoded form decodes to the events, whole or from any part on")
    func bodiesDecode() throws {
        let recordedAt = Timestamp(microseconds: EventFactory.t0.microseconds + 123_456)
        for events in Self.batches() {
            let encoded = EncodedEvents(events)
            #expect(encoded.count == events.count)
            // The whole batch, and a part, as when a commit splits it into blocks.
            for part in [0..<events.count, events.count / 3..<events.count] {
                let first = UInt64(1000 + part.lowerBound)
                var expected = Array(events[part])
                for i in expected.indices {
                    expected[i].sequence = first + UInt64(i)
                    expected[i].recordedAt = recordedAt
                }
                let decoded = try CodecTests.decodeBlock(
                    BlockBody.encode(encoded, part, recordedAt: recordedAt), firstSequence: first)
                // Byte-exact: String's == treats canonically equivalent text as equal.
                #expect(decoded.map(EventCodec.encode) == expected.map(EventCodec.encode))
            }
        }
    }

    @Test("a block of many distinct users (past the users column's linear search) decodes to its events")
    func manyUsers() throws {
        var g = SeededGenerator(seed: 47)
        for distinct in [1, 32, 33, 34, 100, 700] {
            var events = CodecTests.randomBatch(&g, count: 700, firstSequence: 1)
            for i in events.indices { events[i].subject = i % 9 == 0 ? nil : EventFactory.user(i * 7 % distinct) }
            let decoded = try CodecTests.decodeBlock(BlockBody.encode(events), firstSequence: 1)
            #expect(decoded.map(EventCodec.encode) == events.map(EventCodec.encode), "\(distinct) users")
            // Each user once, in order of first appearance: the column's size depends on it.
            let users = BlockBody.Users(count: events.count, subject: { events[$0].subject })
            var firstSeen: [UserID] = []
            for e in events { if let u = e.subject, !firstSeen.contains(u) { firstSeen.append(u) } }
            #expect(users.list == firstSeen)
            #expect(users.index.map { users.list[$0] } == events.compactMap(\.subject))
        }
    }

    @Test("each event's hash from the encoded form is its hash; and each decodes back to the event")
    func sameHashes() {
        let scratch = EncodingScratch(capacity: 16)
        let recordedAt = Timestamp(microseconds: 1_700_000_000_000_123)
        // Each event is decoded alone, and through a string cache that outlives its batch (as
        // live projection turns decode theirs): the same bytes either way.
        var cached = CachedInlineStrings()
        cached.cache.enable(slots: 4)  // few slots: hits, misses and evictions
        for events in Self.batches() {
            let encoded = EncodedEvents(events)
            encoded.tails.withUnsafeBytes { tails in
                for i in events.indices {
                    let tail = UnsafeRawBufferPointer(rebasing: tails[encoded.starts[i]..<encoded.starts[i + 1]])
                    var stamped = events[i]
                    stamped.sequence = 1000 + UInt64(i)
                    stamped.recordedAt = recordedAt
                    #expect(
                        ChainHash.event(
                            encoded, i, tail: tail, sequence: stamped.sequence, recordedAt: recordedAt,
                            scratch: scratch) == ChainHash.event(stamped, scratch: scratch))
                }
            }
            for i in events.indices {
                var expected = events[i]
                expected.sequence = 7 + UInt64(i)
                expected.recordedAt = recordedAt
                #expect(
                    EventCodec.encode(encoded.event(i, sequence: 7 + UInt64(i), recordedAt: recordedAt))
                        == EventCodec.encode(expected))
                #expect(
                    EventCodec.encode(
                        encoded.event(i, sequence: 7 + UInt64(i), recordedAt: recordedAt, strings: &cached))
                        == EventCodec.encode(expected))
            }
        }
    }

    @Test("a batch encoded at once equals the same events appended one by one")
    func atOnceOrOneByOne() {
        for events in Self.batches() + [[]] {
            var oneByOne = EncodedEvents()
            for e in events { oneByOne.append(e) }
            #expect(EncodedEvents(events) == oneByOne)
        }
    }

    @Test("a batch split into groups gives each group its events, whole and in order")
    func partitioned() {
        var g = SeededGenerator(seed: 43)
        for events in Self.batches() {
            let groups = 1 + Int(g.next() % 5)
            let group = events.map { _ in Int(g.next() % UInt64(groups)) }
            let split = EncodedEvents(events).partitioned(by: group, into: groups)
            #expect(split.count == groups)
            for k in 0..<groups {
                #expect(split[k] == EncodedEvents(events.indices.filter { group[$0] == k }.map { events[$0] }))
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
