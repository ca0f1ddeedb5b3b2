import LogbookTestSupport
import Testing

@testable import LogbookCore

@Suite("Committed events kept for the live projections")
struct CommittedEventsTests {
    static let recordedAt = Timestamp(microseconds: 1_750_000_000_000_000)

    func events(_ sequences: ClosedRange<UInt64>) -> [Event] {
        var g = SeededGenerator(seed: sequences.lowerBound)
        return sequences.map { s in
            var e = EventFactory.window(&g)
            e.sequence = s
            e.recordedAt = Self.recordedAt
            return e
        }
    }

    /// Appends the events `sequences` as a commit hands them over.
    func append(_ b: inout CommittedEvents, _ sequences: ClosedRange<UInt64>) -> Bool {
        b.append(EncodedEvents(events(sequences)), first: sequences.lowerBound, recordedAt: Self.recordedAt)
    }

    @Test("take returns what continues the checkpoint, drops what it covers, and leaves gaps to the log")
    func takeSemantics() {
        var b = CommittedEvents()
        let appended = [append(&b, 1...5), append(&b, 6...8)]
        #expect(appended == [true, true])
        // Checkpoint 2: 1 and 2 are stale, 3...6 come out (through 6), across both commits,
        // decoded whole.
        let (taken, removed) = b.take(after: 2, through: 6)
        #expect(taken.flatMap { $0.events() } == Array(events(1...5)[2...]) + events(6...6))
        #expect(removed == 6)
        #expect(b.first == 7 && b.count == 2)
        // A checkpoint behind the buffer (a gap): nothing comes out, nothing is dropped.
        let (none, kept) = b.take(after: 4, through: 8)
        #expect(none.isEmpty && kept == 0 && b.count == 2)
        // Events that do not continue the buffer are left to the log; the buffer stays.
        let afterHole = append(&b, 20...21)
        #expect(!afterHole)
        #expect(b.first == 7 && b.count == 2)
        #expect(b.take(after: 6, through: 100).0.flatMap { $0.events() } == Array(events(6...8)[1...]))
        #expect(b.removeAll() == 0)
        let intoEmpty = append(&b, 20...21)
        #expect(intoEmpty && b.first == 20)
        #expect(b.removeAll() == 2)
    }

    @Test("a commit's events wait in memory until the tenant's next turn takes them")
    func heldUntilTheTurn() async throws {
        let dir = TemporaryDirectory()
        var o = testOptions()
        o.projectionThreads = 1
        o.projectionIntervalMicros = 60_000_000  // after the first turn, none comes unless a reader waits
        let s = try LogStore(directory: dir.path, options: o)
        defer { s.close() }
        let budget = try #require(s.committedBudget)
        let tenant = TenantID("acme")!
        var g = SeededGenerator(seed: 8)
        _ = try await s.append([EventFactory.window(&g)], to: tenant)
        #expect(try await s.waitForProjections(tenant, through: 1, timeout: .seconds(10)))
        #expect(try await eventually(within: .seconds(10)) { budget.inUse == 0 })
        let batch = (0..<5).map { i in
            EventFactory.window(
                &g, at: Timestamp(microseconds: EventFactory.t0.microseconds + Int64(i + 1) * 10_000_000))
        }
        _ = try await s.append(batch, to: tenant)
        #expect(budget.inUse == batch.count)
        #expect(try await s.waitForProjections(tenant, through: 6, timeout: .seconds(10)))
        #expect(try s.projectionStatus(tenant).checkpoint == 6)
        #expect(budget.inUse == 0)
    }

    @Test("the budget never goes past its limit and is whole again once everything is projected")
    func budget() async throws {
        for limit in [10, 100_000] {  // 10: batches of 7 leave holes the log fills
            let dir = TemporaryDirectory()
            var o = testOptions()
            o.projectionThreads = 1
            o.maxCommittedEventsInMemory = limit
            let s = try LogStore(directory: dir.path, options: o)
            defer { s.close() }
            let budget = try #require(s.committedBudget)
            var scenario = ProjectionScenario(seed: 21)
            let stream = scenario.randomStream(400)
            let tenant = TenantID("acme")!
            var i = 0
            while i < stream.count {
                _ = try await s.append(Array(stream[i..<min(stream.count, i + 7)]), to: tenant)
                #expect(budget.inUse <= limit)
                i += 7
            }
            let head = try s.lastSequence(tenant)
            #expect(try await s.waitForProjections(tenant, through: head, timeout: .seconds(30)))
            // The turn that reached the head took every buffered event with it.
            #expect(try await eventually(within: .seconds(10)) { budget.inUse == 0 })
            // Whatever came from memory and whatever from the log, the state is the rebuilt one.
            let live = try s.projectionContents(tenant)
            try s.rebuildProjections(tenant)
            #expect(try s.projectionContents(tenant) == live)
        }
    }
}

extension CommittedEvents.Piece {
    /// The piece's events, decoded.
    func events() -> [Event] {
        range.map { encoded.event($0, sequence: first + UInt64($0 - range.lowerBound), recordedAt: recordedAt) }
    }
}
