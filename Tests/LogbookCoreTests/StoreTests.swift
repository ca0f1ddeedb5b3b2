import Foundation
import Testing
@testable import LogbookCore
import LogbookTestSupport

@Suite("Appending and reading")
struct StoreTests {
    let tenant = TenantID("acme")!

    @Test("appends get dense sequences from 1 and read back equal, in order")
    func appendAndRead() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 1)
        var written: [Event] = []
        for _ in 0..<7 {
            let batch = (0..<Int.random(in: 1...250, using: &g)).map { _ in EventFactory.window(&g) }
            let outcomes = try await store.append(batch, to: tenant)
            #expect(
                outcomes.map(\.sequence)
                    == Array(UInt64(written.count + 1)...UInt64(written.count + batch.count)).map { $0 })
            written += batch
        }
        var read: [Event] = []
        try store.read(tenant) {
            read.append($0); return true
        }
        #expect(read.map(\.sequence) == Array(1...UInt64(written.count)))
        #expect(read.map(\.id) == written.map(\.id))
        #expect(read.map(\.data) == written.map(\.data))
        #expect(zip(read, read.dropFirst()).allSatisfy { $0.recordedAt <= $1.recordedAt })
        #expect(try store.lastSequence(tenant) == UInt64(written.count))
    }

    @Test("a range read returns exactly the sequences asked for, across block boundaries")
    func rangeRead() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 2)
        _ = try await store.append((0..<450).map { _ in EventFactory.window(&g) }, to: tenant)
        for (from, to) in [(1, 1), (99, 101), (100, 100), (101, 450), (250, 9999), (451, 500)] {
            var seqs: [UInt64] = []
            try store.read(tenant, from: UInt64(from), to: UInt64(to)) {
                seqs.append($0.sequence); return true
            }
            let expected = from > 450 ? [] : Array(UInt64(from)...UInt64(min(to, 450)))
            #expect(seqs == expected, "range \(from)...\(to)")
        }
    }

    @Test("a time-range read returns the events whose occurred-at lies in the range")
    func timeRead() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 3)
        let base = EventFactory.t0.microseconds
        // Out of order on purpose: agents send late samples.
        let events = (0..<300).map { i in
            EventFactory.window(&g, at: Timestamp(microseconds: base + Int64((i * 7919) % 300) * 1_000_000))
        }
        _ = try await store.append(events, to: tenant)
        let range = Timestamp(microseconds: base + 100_000_000)..<Timestamp(microseconds: base + 150_000_000)
        var got: [EventID] = []
        try store.read(tenant, occurred: range) {
            got.append($0.id); return true
        }
        let expected = events.filter { range.contains($0.occurredAt) }.map(\.id)
        #expect(got == expected)
        #expect(got.count == 50)
    }

    @Test("an event id appended again returns the original sequence and writes nothing, also after a restart")
    func idempotency() async throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 4)
        let first = (0..<300).map { _ in EventFactory.window(&g) }
        do {
            let store = try LogStore(directory: dir.path, options: testOptions())
            _ = try await store.append(first, to: tenant)
            // Within one batch, and against stored events.
            let again = try await store.append([first[5], first[5], first[299]], to: tenant)
            #expect(again == [.duplicate(sequence: 6), .duplicate(sequence: 6), .duplicate(sequence: 300)])
            store.close()
        }
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        let fresh = EventFactory.window(&g)
        let retried = try await store.append(first + [fresh, fresh], to: tenant)
        #expect(retried.prefix(300).map(\.sequence) == Array(1...300).map { $0 })
        #expect(retried.prefix(300).allSatisfy { $0.isDuplicate })
        #expect(retried[300] == .appended(sequence: 301))
        #expect(retried[301] == .duplicate(sequence: 301))
        #expect(try store.lastSequence(tenant) == 301)
        #expect(try store.verify(tenant).ok)
    }

    @Test("ids that share the dedup index's prefix are still told apart")
    func prefixCollision() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 5)
        var a = EventFactory.window(&g)
        var b = EventFactory.window(&g)
        // Two ids the prefix function mixes to the same value.
        let k = TenantLog.dedupMix
        a.id = UUID128(high: 0xABCD_EF01_2345_4678, low: 0x8000_0000_0000_0001)
        b.id = UUID128(high: a.id.high ^ (a.id.low &* k) ^ (0x8000_0000_0000_0002 &* k), low: 0x8000_0000_0000_0002)
        #expect(TenantLog.dedupPrefix(a.id) == TenantLog.dedupPrefix(b.id))
        #expect(try await store.append([a], to: tenant) == [.appended(sequence: 1)])
        #expect(try await store.append([b], to: tenant) == [.appended(sequence: 2)])
        #expect(try await store.append([b, a], to: tenant) == [.duplicate(sequence: 2), .duplicate(sequence: 1)])
    }

    @Test("the dedup keys' radix sort orders them as whole numbers, shared prefixes included")
    func dedupKeySort() {
        var g = SeededGenerator(seed: 21)
        for count in [0, 1, 2, 63, 64, 65, 100, 999, 1_000, 4_097] {
            // Few distinct prefixes in some rounds, so that many keys share one.
            for distinct in [UInt64(3), 1 << 40] {
                let keys = (0..<count).map { i in (UInt64.random(in: 0..<distinct, using: &g) << 24) | UInt64(i) }
                var sorted = keys
                TenantLog.sortByPrefix(&sorted)
                #expect(sorted == keys.sorted(), "count \(count), \(distinct) prefixes")
            }
        }
    }

    @Test("ids repeated within batches, some sharing a prefix, are answered as a model of first occurrences says")
    func repeatsWithinBatches() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 31)
        // A small pool of ids, so that batches repeat them; pairs in it share a dedup prefix.
        let k = TenantLog.dedupMix
        var pool: [EventID] = []
        for _ in 0..<20 {
            let a = UUID128(high: g.next(), low: g.next())
            let low = g.next() | 1
            pool.append(a)
            pool.append(UUID128(high: a.high ^ (a.low &* k) ^ (low &* k), low: low))
        }
        #expect(TenantLog.dedupPrefix(pool[0]) == TenantLog.dedupPrefix(pool[1]))
        var model: [EventID: UInt64] = [:]
        for _ in 0..<12 {
            let count = 1 + Int(g.next() % 80)
            let events = (0..<count).map { _ in
                var e = EventFactory.window(&g)
                e.id = pool[Int(g.next() % UInt64(pool.count))]
                return e
            }
            var expected: [AppendOutcome] = []
            for e in events {
                if let s = model[e.id] {
                    expected.append(.duplicate(sequence: s))
                } else {
                    let s = UInt64(model.count + 1)
                    model[e.id] = s
                    expected.append(.appended(sequence: s))
                }
            }
            #expect(try await store.append(events, to: tenant) == expected)
        }
        #expect(try store.verify(tenant).ok)
    }

    @Test("time-ordered ids (UUIDv7: equal leading bits) spread over the dedup prefixes and stay idempotent")
    func timeOrderedIDs() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 12)
        var events: [Event] = []
        for i in 0..<2_000 {
            var e = EventFactory.window(&g)
            // 48-bit millisecond time, version 7, a counter: the leading 40 bits hardly change.
            e.id = UUID128(high: 0x0193_0000_0000_7000 | UInt64(i / 100) << 16, low: 0x8000_0000_0000_0000 | UInt64(i))
            events.append(e)
        }
        let prefixes = Set(events.map { TenantLog.dedupPrefix($0.id) })
        #expect(prefixes.count == events.count)
        for chunk in stride(from: 0, to: events.count, by: 250) {
            _ = try await store.append(Array(events[chunk..<chunk + 250]), to: tenant)
        }
        let again = try await store.append(events, to: tenant)
        #expect(again == (1...2_000).map { .duplicate(sequence: UInt64($0)) })
    }

    @Test("a follower waiting after sequence N wakes when N+1 commits")
    func follow() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 6)
        _ = try await store.append([EventFactory.window(&g)], to: tenant)
        async let woke = store.waitForEvents(tenant, after: 1)
        try await Task.sleep(for: .milliseconds(50))
        _ = try await store.append([EventFactory.window(&g), EventFactory.window(&g)], to: tenant)
        #expect(try await woke == 3)
        #expect(try await store.waitForEvents(tenant, after: 2) == 3)
    }

    @Test("reading a tenant that does not exist is a typed error and creates nothing")
    func missingTenant() throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        #expect(throws: LogError.self) { try store.read(TenantID("nobody")!) { _ in true } }
        #expect(store.tenants().isEmpty)
    }

    @Test("a tenant created on first use has its directory synced by its first durable write, not by its creator")
    func newTenantDirectorySync() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 12)
        let tenant = TenantID("fresh")!
        #expect(try store.withTenant(tenant, create: true) { $0.hasUnsyncedDirectories })
        _ = try await store.append([EventFactory.window(&g)], to: tenant)
        #expect(try store.withTenant(tenant, create: false) { $0.hasUnsyncedDirectories } == false)
        // A token's write is durable too: it syncs a new tenant's directories as well.
        let other = TenantID("fresh-token")!
        #expect(try store.withTenant(other, create: true) { $0.hasUnsyncedDirectories })
        _ = try store.issueToken(tenant: other, role: .agent)
        #expect(try store.withTenant(other, create: false) { $0.hasUnsyncedDirectories } == false)
        // A directory left without its files (its creator stopped first) gets them now: synced too.
        try FileManager.default.createDirectory(
            atPath: dir.path + "/tenants/bare", withIntermediateDirectories: false,
            attributes: [.posixPermissions: 0o700])
        #expect(try store.withTenant(TenantID("bare")!, create: true) { $0.hasUnsyncedDirectories })
        // An existing tenant opened again has nothing to sync.
        store.close()
        let reopened = try LogStore(directory: dir.path, options: testOptions())
        defer { reopened.close() }
        #expect(try reopened.withTenant(tenant, create: false) { $0.hasUnsyncedDirectories } == false)
    }

    @Test("a tenant made ahead of its first append exists, is empty, and takes that append at sequence 1")
    func createAhead() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 13)
        let tenant = TenantID("ahead")!
        try store.createTenant(tenant)
        try store.createTenant(tenant)  // again: nothing changes
        #expect(store.tenants() == [tenant])
        #expect(try store.lastSequence(tenant) == 0)
        // Like a tenant made on first use, its directory is made durable by its first write.
        #expect(try store.withTenant(tenant, create: false) { $0.hasUnsyncedDirectories })
        let outcomes = try await store.append([EventFactory.window(&g)], to: tenant)
        #expect(outcomes.map(\.sequence) == [1])
        #expect(try store.withTenant(tenant, create: false) { $0.hasUnsyncedDirectories } == false)
        store.close()
        #expect(throws: LogError.self) { try store.createTenant(TenantID("late")!) }
        #expect(store.tenants() == [tenant])
    }

    @Test("tenant environments are private: directory 0700, files 0600")
    func permissions() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        var g = SeededGenerator(seed: 7)
        _ = try await store.append([EventFactory.window(&g)], to: tenant)
        store.close()
        func mode(_ p: String) -> Int {
            (try? FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int) ?? -1
        }
        let tdir = dir.path + "/tenants/acme"
        #expect(mode(tdir) == 0o700)
        #expect(mode(tdir + "/data.mdb") == 0o600)
        #expect(mode(tdir + "/lock.mdb") == 0o600)
    }

    @Test("a trained dictionary is used for later blocks and reads still decode after a restart")
    func dictionary() async throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 8)
        let events = (0..<1500).map { i in EventFactory.window(&g, user: EventFactory.user(i % 7)) }
        var appended = events
        do {
            let store = try LogStore(directory: dir.path, options: testOptions())
            for chunk in stride(from: 0, to: events.count, by: 100) {
                _ = try await store.append(Array(events[chunk..<(chunk + 100)]), to: tenant)
            }
            // Training runs beside the commits; the first commit after it adopts the dictionary.
            for _ in 0..<500 where try store.stats(tenant).dictionaryID == 0 {
                let e = EventFactory.window(&g, user: EventFactory.user(appended.count % 7))
                _ = try await store.append([e], to: tenant)
                appended.append(e)
                try await Task.sleep(for: .milliseconds(20))
            }
            let adopted = try store.stats(tenant).dictionaryID != 0
            #expect(adopted)
            store.close()
        }
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var ids: [EventID] = []
        try store.read(tenant) {
            ids.append($0.id); return true
        }
        #expect(ids == appended.map(\.id))
        #expect(try store.verify(tenant).ok)
    }
}

@Suite("The dedup index")
struct DedupIndexTests {
    @Test("many small commits leave a logarithmic number of runs, and every stored id is still found")
    func runsStaySmall() async throws {
        let dir = TemporaryDirectory()
        let tenant = TenantID("runs")!
        var g = SeededGenerator(seed: 13)
        var all: [Event] = []
        do {
            let store = try LogStore(directory: dir.path, options: testOptions())
            for _ in 0..<300 {
                let batch = (0..<Int(1 + g.next() % 20)).map { _ in EventFactory.window(&g) }
                _ = try await store.append(batch, to: tenant)
                all += batch
            }
            let runs = try store.withTenant(tenant, create: false) { $0.dedupRuns }
            #expect(runs.count <= 12, "\(runs.count) runs for \(all.count) events")
            #expect(runs.reduce(0) { $0 + $1.count } == all.count)
            #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.count >= $1.count })
            store.close()
        }
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        // Every id, retried in a random order after a restart, maps to its original sequence.
        let order = all.indices.shuffled(using: &g)
        let outcomes = try await store.append(order.map { all[$0] }, to: tenant)
        for (k, i) in order.enumerated() { #expect(outcomes[k] == .duplicate(sequence: UInt64(i + 1))) }
        #expect(try store.lastSequence(tenant) == UInt64(all.count))

        // A batch mixing stored ids, new ids and a new id twice: the new ones get the next
        // sequences, and their entries (made from the new events alone) find them afterwards.
        let fresh = (0..<40).map { _ in EventFactory.window(&g) }
        var mixed: [Event] = []
        for (k, e) in fresh.enumerated() { mixed += [e, all[k * 7]] }
        mixed.append(fresh[3])
        let mixedOutcomes = try await store.append(mixed, to: tenant)
        let next = UInt64(all.count)
        for k in fresh.indices {
            #expect(mixedOutcomes[2 * k] == .appended(sequence: next + 1 + UInt64(k)))
            #expect(mixedOutcomes[2 * k + 1] == .duplicate(sequence: UInt64(k * 7 + 1)))
        }
        #expect(mixedOutcomes.last == .duplicate(sequence: next + 4))
        let again = try await store.append(fresh.reversed(), to: tenant)
        #expect(again == fresh.indices.reversed().map { .duplicate(sequence: next + 1 + UInt64($0)) })
    }
}

@Suite("Batch limits")
struct BatchLimitTests {
    /// Three appends queued while a commit waits for company (`maxBatchDelayMicros`): how many
    /// commits (one block each, at this size) they take.
    func blocks(approximateBytes: Int?, maxBatchBytes: Int) async throws -> UInt64 {
        let dir = TemporaryDirectory()
        var options = testOptions()
        options.maxBatchBytes = maxBatchBytes
        options.maxBatchDelayMicros = 300_000
        let store = try LogStore(directory: dir.path, options: options)
        defer { store.close() }
        let tenant = TenantID("limits")!
        var g = SeededGenerator(seed: 31)
        let batches = (0..<3).map { _ in (0..<10).map { _ in EventFactory.window(&g) } }
        let done = Completions()
        for events in batches {
            try store.submit(events, to: tenant, approximateBytes: approximateBytes) { done.finish($0) }
        }
        try await done.wait(for: 3)
        return try store.stats(tenant).blocks
    }

    @Test("the caller's measure of an append's bytes counts against maxBatchBytes")
    func callerBytes() async throws {
        #expect(try await blocks(approximateBytes: 600, maxBatchBytes: 1000) == 3, "600 + 600 > 1000")
        #expect(try await blocks(approximateBytes: 300, maxBatchBytes: 1000) == 1, "3 × 300 ≤ 1000")
        // Without it, the estimate of ten small events (≥ 64 bytes each) decides.
        #expect(try await blocks(approximateBytes: nil, maxBatchBytes: 1000) == 3)
        #expect(try await blocks(approximateBytes: nil, maxBatchBytes: 1 << 20) == 1)
    }
}

/// Waits for a number of `submit` completions, all of them successes.
final class Completions: @unchecked Sendable {
    // @unchecked: all state guarded by `lock`.
    private let lock = NSLock()
    private var results: [Result<[AppendOutcome], LogError>] = []

    func finish(_ r: Result<[AppendOutcome], LogError>) { lock.withLock { results.append(r) } }

    func wait(for n: Int) async throws {
        let arrived = try await eventually(within: .seconds(60)) { lock.withLock { results.count } >= n }
        try #require(arrived, "\(n) completions did not arrive within a minute")
        for r in lock.withLock({ results }) { _ = try r.get() }
    }
}

@Suite("Block time columns")
struct BlockTimeScaleTests {
    @Test(
        "whole-millisecond time columns are stored scaled and decode to the same microseconds",
        arguments: [1_000, 1, 7])
    func scales(granularity: Int64) throws {
        var g = SeededGenerator(seed: 14)
        var events = (0..<200).map { i in
            var e = EventFactory.window(&g)
            e.sequence = UInt64(i + 1)
            e.occurredAt = Timestamp(
                microseconds: EventFactory.t0.microseconds + Int64(g.next() % 1_000_000) * granularity)
            e.recordedAt = Timestamp(microseconds: EventFactory.t0.microseconds + Int64(i / 10) * 1000)
            e.duration = Int64(g.next() % 100_000) * granularity
            return e
        }
        let body = BlockBody.encode(events)
        var decoded: [Event] = []
        try body.withUnsafeBytes { try BlockBody.decode($0, firstSequence: 1, into: &decoded) }
        #expect(decoded == events)
        // The same block with one microsecond added somewhere still round-trips (unscaled).
        events[100].occurredAt.microseconds += 1
        let unscaled = BlockBody.encode(events)
        try unscaled.withUnsafeBytes { try BlockBody.decode($0, firstSequence: 1, into: &decoded) }
        #expect(decoded == events)
        if granularity == 1_000 { #expect(body.count < unscaled.count) }
    }
}

@Suite("Deactivated users")
struct DeactivationTests {
    func admin(_ type: EventType, _ user: UserID, _ g: inout SeededGenerator) -> Event {
        Event(id: .random(using: &g), type: type, subject: user, occurredAt: EventFactory.t0, data: [])
    }

    @Test(
        "from the commit of user.deactivated on, that user's events are refused (also within one batch), until user.reactivated"
    )
    func deactivation() async throws {
        let dir = TemporaryDirectory()
        let tenant = TenantID("hr")!
        let (alice, bob) = (EventFactory.user(1), EventFactory.user(2))
        var g = SeededGenerator(seed: 15)
        let before = EventFactory.window(&g, user: alice)
        let retry = before
        do {
            let store = try LogStore(directory: dir.path, options: testOptions())
            let outcomes = try await store.append(
                [
                    before, admin(.userDeactivated, alice, &g), EventFactory.window(&g, user: alice),
                    EventFactory.window(&g, user: bob),
                ],
                to: tenant)
            #expect(
                outcomes == [
                    .appended(sequence: 1), .appended(sequence: 2), .refused(.userDeactivated), .appended(sequence: 3),
                ])
            #expect(store.isDeactivated(alice, in: tenant))
            #expect(!store.isDeactivated(bob, in: tenant))
            store.close()
        }
        // The state survives a restart; a retry of an event stored before is still a duplicate.
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        #expect(store.isDeactivated(alice, in: tenant))
        let later = try await store.append([retry, EventFactory.window(&g, user: alice)], to: tenant)
        #expect(later == [.duplicate(sequence: 1), .refused(.userDeactivated)])
        // An id refused once is still new: after the reactivation in the same batch it is
        // appended, and a third sending is a duplicate of that.
        let refusedFirst = EventFactory.window(&g, user: alice)
        let back = try await store.append(
            [refusedFirst, admin(.userReactivated, alice, &g), refusedFirst, refusedFirst], to: tenant)
        #expect(
            back == [
                .refused(.userDeactivated), .appended(sequence: 4), .appended(sequence: 5), .duplicate(sequence: 5),
            ])
        #expect(!store.isDeactivated(alice, in: tenant))
        #expect(try store.verify(tenant).ok)
    }
}
