import Foundation
import Synchronization
import Testing
@testable import LogbookCore
import LogbookTestSupport

@Suite("Concurrency, back-pressure and many tenants")
struct ConcurrencyTests {
    @Test("many appenders on many tenants at once: dense sequences, no duplicates, no loss")
    func manyAppenders() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        let tenants = (0..<6).map { TenantID("tenant-\($0)")! }
        let acked = try await withThrowingTaskGroup(of: [(TenantID, UInt64, EventID)].self) { group in
            for w in 0..<24 {
                group.addTask {
                    var g = SeededGenerator(seed: UInt64(100 + w))
                    var acks: [(TenantID, UInt64, EventID)] = []
                    for _ in 0..<15 {
                        let tenant = tenants[Int(g.next() % 6)]
                        let batch = (0..<Int(1 + g.next() % 40)).map { _ in EventFactory.window(&g) }
                        let outcomes = try await store.append(batch, to: tenant)
                        for (e, o) in zip(batch, outcomes) {
                            #expect(!o.isDuplicate)
                            acks.append((tenant, try #require(o.sequence), e.id))
                        }
                    }
                    return acks
                }
            }
            var all: [(TenantID, UInt64, EventID)] = []
            for try await a in group { all += a }
            return all
        }
        for t in tenants {
            var stored: [UInt64: EventID] = [:]
            var seqs: [UInt64] = []
            try store.read(t) {
                stored[$0.sequence] = $0.id; seqs.append($0.sequence); return true
            }
            let mine = acked.filter { $0.0 == t }
            #expect(seqs == Array(1...UInt64(max(1, seqs.count))).prefix(seqs.count).map { $0 })
            #expect(seqs.count == mine.count)
            for (_, seq, id) in mine { #expect(stored[seq] == id) }
            #expect(try store.verify(t).failure == nil)
        }
        store.close()
    }

    @Test("a full queue refuses appends at once with queueFull; everything acknowledged is stored")
    func backPressure() async throws {
        let dir = TemporaryDirectory()
        var options = testOptions()
        options.maxQueuedEventsPerTenant = 50
        options.commitThreads = 1
        let store = try LogStore(directory: dir.path, options: options)
        let tenant = TenantID("busy")!
        let results = await withTaskGroup(of: Result<[AppendOutcome], LogError>.self) { group in
            for w in 0..<40 {
                group.addTask {
                    var g = SeededGenerator(seed: UInt64(w))
                    do throws(LogError) {
                        return .success(
                            try await store.append((0..<20).map { _ in EventFactory.window(&g) }, to: tenant))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<[AppendOutcome], LogError>] = []
            for await r in group { all.append(r) }
            return all
        }
        let refused = results.filter {
            if case .failure(let e) = $0 { return e.code == .queueFull } else { return false }
        }
        let accepted = results.compactMap { try? $0.get() }
        #expect(refused.count > 0, "40 concurrent appends against a 50-event queue must hit back-pressure")
        #expect(refused.count + accepted.count == 40)
        #expect(try store.lastSequence(tenant) == UInt64(accepted.count * 20))
        store.close()
    }

    @Test("10,000 tenants stay within the open-environment bound")
    func manyTenants() async throws {
        let dir = TemporaryDirectory()
        var options = testOptions(noSync: true)  // creating 10,000 environments durably would take minutes
        options.maxOpenTenants = 64
        options.mapSize = 1 << 26
        let store = try LogStore(directory: dir.path, options: options)
        var g = SeededGenerator(seed: 9)
        var maxOpen = 0
        var maxFiles = 0
        for i in 0..<10_000 {
            _ = try await store.append([EventFactory.window(&g)], to: TenantID("t\(i)")!)
            maxOpen = max(maxOpen, store.openTenantCount)
            if i % 500 == 0 { maxFiles = max(maxFiles, openFiles(under: dir.path)) }
        }
        #expect(maxOpen == 64)
        // LMDB holds up to three descriptors per environment (data twice, lock once).
        #expect(maxFiles <= 64 * 3)
        #expect(maxFiles > 0)
        #expect(store.tenants().count == 10_000)
        // An evicted tenant reopens with its data.
        #expect(try store.lastSequence(TenantID("t7")!) == 1)
        let again = try await store.append([EventFactory.window(&g)], to: TenantID("t7")!)
        #expect(again == [.appended(sequence: 2)])
        store.close()
    }

    @Test("a tenant evicted while its projection turn waits has its environment closed at once")
    func evictionClosesWaitingTurns() async throws {
        let dir = TemporaryDirectory()
        var o = testOptions()
        o.maxOpenTenants = 1
        o.projectionThreads = 1
        o.projectionIntervalMicros = 60_000_000  // after the first turn, the next waits a minute
        let store = try LogStore(directory: dir.path, options: o)
        defer { store.close() }
        var g = SeededGenerator(seed: 11)
        let a = TenantID("a")!
        _ = try await store.append([EventFactory.window(&g)], to: a)
        #expect(try await store.waitForProjections(a, through: 1, timeout: .seconds(10)))
        _ = try await store.append([EventFactory.window(&g)], to: a)  // its turn now waits
        weak let first = try store.withTenant(a, create: false) { $0 }
        #expect(first != nil)
        // The only open slot goes to another tenant: `a` is evicted, and nothing may keep its
        // environment open, or reopening `a` would give the process two handles on it.
        _ = try await appendRetrying(store, [EventFactory.window(&g)], to: TenantID("b")!)
        #expect(try await eventually(within: .seconds(10)) { first == nil })
        // Reopened with both events (once `b`'s commit has let go of the slot).
        #expect(try await eventually(within: .seconds(10)) { (try? store.lastSequence(a)) == 2 })
    }

    @Test("a tenant being opened holds up only the callers that want that tenant")
    func openingIsPerTenant() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 13)
        let slow = TenantID("slow")!
        _ = try await store.append([EventFactory.window(&g)], to: slow)
        store.table.withLock { $0.open[slow] = nil }  // closed, as after an eviction
        // Another thread is opening `slow` (a long open: a large dedup index, projections to clear).
        let gate = LogStore.OpeningGate(create: false)
        store.table.withLock { $0.opening[slow] = gate }
        // On a thread of its own: it blocks until the gate opens, and Swift concurrency's
        // pool (two threads here) must stay free for the rest of the test.
        let answered = Counter()
        let waiter = Task {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<UInt64, any Error>) in
                Thread {
                    let result = Result { try store.lastSequence(slow) }
                    answered.add(1)
                    c.resume(with: result)
                }.start()
            }
        }
        // Every other tenant is served meanwhile.
        _ = try await store.append([EventFactory.window(&g)], to: TenantID("other")!)
        #expect(try store.lastSequence(TenantID("other")!) == 1)
        try await Task.sleep(for: .milliseconds(50))
        #expect(answered.value == 0, "a caller wanting a tenant being opened waits for the opener")
        // The opener gives up (say it failed): the waiter opens `slow` itself.
        store.table.withLock { $0.opening[slow] = nil }
        gate.finish()
        #expect(try await waiter.value == 1)
    }

    @Test("appends submitted while their tenant opens return at once, and commit in submission order once it is open")
    func appendsWaitForTheOpening() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 17)
        let late = TenantID("late")!
        // Someone is opening `late` (creating it): the appends wait behind that, not in `submit`.
        let gate = LogStore.OpeningGate(create: true)
        store.table.withLock { $0.opening[late] = gate }
        let results = Mutex<[Int: [AppendOutcome]]>([:])
        for k in 0..<5 {
            try store.submit([EventFactory.window(&g), EventFactory.window(&g)], to: late) { r in
                results.withLock { $0[k] = try? r.get() }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(results.withLock { $0.isEmpty }, "nothing commits before the tenant is open")
        try store.open(late, create: true, gate: gate, pinned: false)
        #expect(try await eventually(within: .seconds(10)) { results.withLock { $0.count } == 5 })
        let sequences = results.withLock { r in (0..<5).flatMap { r[$0] ?? [] }.map(\.sequence) }
        #expect(sequences == Array(1...10), "in the order they were submitted")
        #expect(try store.verify(late).ok)
    }

    @Test(
        "when a new tenant cannot be opened, its appends fail through their completions and the queues are free again")
    func failedOpening() async throws {
        let dir = TemporaryDirectory()
        var o = testOptions()
        o.maxQueuedEvents = 10
        let store = try LogStore(directory: dir.path, options: o)
        defer { store.close() }
        var g = SeededGenerator(seed: 19)
        // A file where the tenant's directory would be: its environment cannot be opened.
        let broken = TenantID("broken")!
        try Data().write(to: URL(fileURLWithPath: dir.path + "/tenants/broken"))
        let failures = Counter()
        for _ in 0..<2 {
            try store.submit((0..<5).map { _ in EventFactory.window(&g) }, to: broken) { r in
                if case .failure = r { failures.add(1) }
            }
        }
        #expect(try await eventually(within: .seconds(10)) { failures.value == 2 })
        // The ten events' room is given back: another tenant can queue ten.
        let ok = try await store.append((0..<10).map { _ in EventFactory.window(&g) }, to: TenantID("fine")!)
        #expect(ok.count == 10)
        await #expect(throws: LogError.self) { try await store.append([EventFactory.window(&g)], to: broken) }
    }

    @Test("appenders racing to open and evict tenants keep one environment each and lose nothing")
    func openAndEvictRace() async throws {
        let dir = TemporaryDirectory()
        var o = testOptions(noSync: true)
        o.maxOpenTenants = 3
        let store = try LogStore(directory: dir.path, options: o)
        let tenants = (0..<12).map { TenantID("r\($0)")! }
        let appended = try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<8 {
                group.addTask {
                    var g = SeededGenerator(seed: UInt64(300 + w))
                    var n = 0
                    for i in 0..<30 {
                        let tenant = tenants[(w * 5 + i) % tenants.count]
                        _ = try await appendRetrying(store, [EventFactory.window(&g)], to: tenant)
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(appended == 8 * 30)
        #expect(store.openTenantCount <= 3)
        var total: UInt64 = 0
        for t in tenants {
            total += try store.lastSequence(t)
            #expect(try store.verify(t).failure == nil)
        }
        #expect(total == UInt64(appended))
        store.close()
    }

    @Test("close drains queued appends before returning")
    func closeDrains() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        let tenant = TenantID("drain")!
        var g = SeededGenerator(seed: 10)
        let tracker = Counter()
        for _ in 0..<20 {
            try store.submit((0..<25).map { _ in EventFactory.window(&g) }, to: tenant) { r in
                if case .success(let o) = r { tracker.add(o.count) }
            }
        }
        store.close()
        #expect(tracker.value == 500)
        let reopened = try LogStore(directory: dir.path, options: testOptions())
        #expect(try reopened.lastSequence(tenant) == 500)
        reopened.close()
    }

    #if os(Linux)
        @Test("commit and projection threads carry their names where the system shows threads")
        func threadNames() async throws {
            let dir = TemporaryDirectory()
            var options = testOptions()
            options.commitThreads = 2
            options.projectionThreads = 1
            let store = try LogStore(directory: dir.path, options: options)
            defer { store.close() }
            // Other tests' stores have threads of the same names; these must be there at least.
            let wanted: Set = ["lb-commit-0", "lb-commit-1", "lb-project-0"]
            #expect(try await eventually(within: .seconds(10)) { wanted.isSubset(of: threadNames()) })
        }

        /// The names of this process's threads, as the kernel has them.
        func threadNames() -> Set<String> {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return Set(
                tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
                    .map { $0.trimmingCharacters(in: .newlines) })
        }
    #endif
}

final class Counter: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.withLock { n += k } }
    var value: Int { lock.withLock { n } }
}

/// Descriptors of this process that point into `directory` (other tests run in parallel).
func openFiles(under directory: String) -> Int {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    let prefix = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
    return fds.filter { fd in
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
        return target.hasPrefix(prefix)
    }.count
}

/// Appends, retrying while every open-tenant slot is pinned: an append's caller is answered
/// a moment before its commit unpins the tenant.
private func appendRetrying(_ store: LogStore, _ events: [Event], to tenant: TenantID) async throws -> [AppendOutcome] {
    for _ in 0..<10_000 {
        do throws(LogError) {
            return try await store.append(events, to: tenant)
        } catch {
            guard error.code == .tooManyOpenTenants else { throw error }
        }
        try await Task.sleep(for: .milliseconds(1))
    }
    throw LogError(.tooManyOpenTenants, "the open-tenant slots stayed busy for ten seconds")
}
