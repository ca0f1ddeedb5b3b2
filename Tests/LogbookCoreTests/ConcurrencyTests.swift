import Foundation
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
            #expect(try store.verify(t).ok)
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
        _ = try await store.append([EventFactory.window(&g)], to: TenantID("b")!)
        #expect(try await eventually(within: .seconds(10)) { first == nil })
        #expect(try store.lastSequence(a) == 2)
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
