public import CoreMetrics
import Foundation
public import Logging
import Synchronization

/// The event store: one append-only, hash-chained log per tenant, with durable group commit.
///
/// ```swift
/// let store = try LogStore(directory: "./data", logger: logger)
/// let outcomes = try await store.append(events, to: tenant)   // durable when it returns
/// try store.read(tenant, from: 1) { event in print(event.sequence); return true }
/// store.close()
/// ```
public final class LogStore: Sendable {
    public let directory: String
    public let options: Options
    let logger: Logger
    private let tenantsDirectory: String
    let table: Mutex<TenantTable>
    private let queuedEvents = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let scheduler: CommitScheduler
    private let projectionScheduler: CommitScheduler?
    /// Bounds the committed events kept for the live projections (nil without projection threads).
    let committedBudget: CommittedEventsBudget?
    private let inFlight = Atomic<Int>(0)
    /// Projection turns running now.
    private let projectionTurns = Atomic<Int>(0)
    private let metrics: StoreMetrics

    struct TenantTable {
        var open: [TenantID: Slot] = [:]
        /// Tenants a thread is opening now, outside the lock; they count against the bound.
        var opening: [TenantID: OpeningGate] = [:]
        var clock: UInt64 = 0

        /// `tenant`'s log with one more use, if it is open; a tick of the LRU clock either way.
        mutating func use(_ tenant: TenantID) -> TenantLog? {
            clock += 1
            guard var slot = open[tenant] else { return nil }
            slot.users += 1
            slot.lastUse = clock
            open[tenant] = slot
            return slot.log
        }
    }

    /// Lets the threads that want a tenant another thread is opening wait for it to finish,
    /// and holds the appends submitted meanwhile.
    final class OpeningGate: @unchecked Sendable {
        // @unchecked: `done` is guarded by `condition`; `waiting` by the store's table lock.
        private let condition = NSCondition()
        private var done = false
        /// Whether the opener creates the tenant when it is missing: only then may appends
        /// wait for it (an append creates its tenant).
        let create: Bool
        /// Appends submitted while the tenant opens, in order; the opener queues them before
        /// anyone else can see the tenant open. Guarded by the table lock.
        var waiting: [TenantLog.PendingAppend] = []
        var waitingEvents = 0

        init(create: Bool) { self.create = create }

        func wait() {
            condition.lock()
            while !done { condition.wait() }
            condition.unlock()
        }

        func finish() {
            condition.lock()
            done = true
            condition.broadcast()
            condition.unlock()
        }
    }

    struct Slot {
        var log: TenantLog
        var users: Int
        var lastUse: UInt64
    }

    /// Opens (creating if needed) the store in `directory` (mode 0700).
    ///
    /// - Parameter metrics: where commit latency and commit batch sizes are recorded
    ///   (`logbook_commit_duration_seconds`, `logbook_commit_batch_events`).
    /// - Throws: `LogError` with `.io` when the directory cannot be created.
    public init(
        directory: String, options: Options = Options(), logger: Logger = Logger(label: "logbook.store"),
        metrics: any MetricsFactory = MetricsSystem.factory
    )
        throws(LogError)
    {
        self.directory = directory
        self.options = options
        self.logger = logger
        self.metrics = StoreMetrics(factory: metrics)
        tenantsDirectory = directory + "/tenants"
        for dir in [directory, tenantsDirectory] {
            if mkdir(dir, 0o700) != 0 && errno != EEXIST {
                throw LogError(.io, "cannot create \(dir): \(String(cString: strerror(errno)))")
            }
        }
        table = Mutex(TenantTable())
        let box = WeakStore()
        scheduler = CommitScheduler(threads: max(1, options.commitThreads)) { log in box.store?.runCommits(log) }
        committedBudget =
            options.projectionThreads > 0 && options.maxCommittedEventsInMemory > 0
            ? CommittedEventsBudget(limit: options.maxCommittedEventsInMemory) : nil
        projectionScheduler =
            options.projectionThreads > 0
            ? CommitScheduler(
                threads: options.projectionThreads, name: "lb-project", niceness: options.projectionNiceness
            ) { log in
                box.store?.runProjections(log)
            } : nil
        box.store = self
    }

    // MARK: Tenants

    /// Tenants that have a log in this store, sorted by name.
    public func tenants() -> [TenantID] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tenantsDirectory)) ?? []
        return names.compactMap(TenantID.init).sorted()
    }

    /// Committed events the live projections of the open tenants have not applied yet, as
    /// this process last saw them (for the projection-lag gauge; cheap: no I/O).
    public var projectionLagEvents: UInt64 {
        table.withLock { t in
            t.open.values.reduce(0) { sum, slot in
                let head = slot.log.committed.load(ordering: .relaxed)
                let applied = slot.log.projected.load(ordering: .relaxed)
                return sum + (head > applied ? head - applied : 0)
            }
        }
    }

    /// Number of tenant environments open right now (bounded by `maxOpenTenants`).
    public var openTenantCount: Int { table.withLock { $0.open.count } }

    /// Queues `log` for its projections to catch up, unless it is queued already.
    private func scheduleProjections(_ log: TenantLog) {
        guard let projectionScheduler else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let notBefore = log.projectionQueue.withLock { q -> UInt64? in
            q.pending = true
            if q.waitingSince == 0 { q.waitingSince = now }
            if q.scheduled { return nil }
            q.scheduled = true
            return q.lastTurn + projectionInterval
        }
        guard let notBefore else { return }
        // Not pinned while it waits: a queued turn must not keep the environment out of LRU
        // eviction (with more active tenants than open slots, waiting turns would fill them).
        projectionScheduler.schedule(log, notBefore: notBefore)
    }

    /// Runs the projection turn of `tenant` now rather than when its interval ends: a reader
    /// waits for its own writes. Once per queued turn; the turn still queued for later finds
    /// little or nothing to do when it comes.
    func hurryProjections(_ tenant: TenantID) {
        guard let projectionScheduler, let log = table.withLock({ $0.open[tenant]?.log }) else { return }
        let hurry = log.projectionQueue.withLock { q -> Bool in
            guard q.scheduled, !q.hurried else { return false }
            q.hurried = true
            return true
        }
        if hurry { projectionScheduler.schedule(log) }
    }

    /// The shortest time between two projection turns of one tenant (ns): commits that come
    /// meanwhile are applied together, in one transaction, and each timeline chunk and daily
    /// record they touch is rewritten once rather than once per commit.
    private var projectionInterval: UInt64 { UInt64(options.projectionIntervalMicros) * 1000 }

    private var projectionDeferLimit: UInt64 { UInt64(options.projectionDeferMicros) * 1000 }

    /// When to try `log`'s turn again, or nil to run it now.
    ///
    /// Commits first: while appends are queued or committing, or another turn runs, a turn that
    /// has not waited `projectionDeferMicros` since the first commit it would apply comes back
    /// later, so that its CPU and its flush do not lengthen the commits' acknowledgements (and
    /// one turn at a time leaves the other cores to them). It looks again after 2 ms, then after
    /// a quarter of the time it has waited, so that a turn put off for long is not polled 500
    /// times a second. At full load the commits never pause and every turn runs once it has
    /// waited the limit; a hurried turn (a reader waits for its writes) runs at once.
    private func putOff(_ log: TenantLog, now: UInt64) -> UInt64? {
        // Closing: the turns drain now (the commits already have).
        guard !closed.load(ordering: .relaxed),
            inFlight.load(ordering: .relaxed) > 0 || projectionTurns.load(ordering: .relaxed) > 0
        else { return nil }
        let since = log.projectionQueue.withLock { q in q.hurried ? 0 : q.waitingSince }
        // `since` may be a moment after `now`: a commit scheduled the turn meanwhile.
        guard since != 0, now < since + projectionDeferLimit else { return nil }
        let waited = now > since ? now - since : 0
        return min(now + max(2_000_000, waited / 4), since + projectionDeferLimit)
    }

    /// Pins `log` when it is still the open environment of its tenant (false: it was evicted).
    private func pinIfOpen(_ log: TenantLog) -> Bool {
        table.withLock { t in
            guard var slot = t.open[log.tenant], slot.log === log else { return false }
            slot.users += 1
            t.open[log.tenant] = slot
            return true
        }
    }

    /// One turn of a tenant on a projection thread: catch up with the log; when commits came
    /// meanwhile, queue the next turn one interval after this one began.
    fileprivate func runProjections(_ log: TenantLog) {
        let now = DispatchTime.now().uptimeNanoseconds
        if let later = putOff(log, now: now) {
            projectionScheduler?.schedule(log, notBefore: later)
            return
        }
        // Pinned for the turn, so that LRU eviction cannot reopen the environment while this
        // thread uses the handle. An environment evicted while its turn waited is closed:
        // its projections catch up with the next commit or query, from their checkpoint.
        guard pinIfOpen(log) else { return }
        projectionTurns.add(1, ordering: .relaxed)
        defer {
            projectionTurns.subtract(1, ordering: .relaxed)
            release(log.tenant)
        }
        log.projectionQueue.withLock {
            $0.pending = false
            $0.hurried = false
            $0.waitingSince = 0
            $0.lastTurn = now
        }
        do {
            try log.catchUpProjections()
        } catch {
            // The projections stay behind and are caught up by the next commit or query.
            logger.error("projection failed", metadata: ["tenant": "\(log.tenant)", "error": "\(error)"])
            log.projectionQueue.withLock { $0 = .init() }
            return
        }
        let next = log.projectionQueue.withLock { q -> UInt64? in
            if q.pending { return q.lastTurn + projectionInterval }
            q.scheduled = false
            return nil
        }
        if let next { projectionScheduler?.schedule(log, notBefore: next) }
    }

    /// Events accepted into the append queues and not yet committed (bounded by `maxQueuedEvents`).
    public var queuedEventCount: Int { queuedEvents.load(ordering: .relaxed) }

    /// Creates `tenant` (its directory and environment) unless it exists, and opens it, so that
    /// its first append need not wait for that. Appends create a tenant on first use anyway;
    /// this is for callers that know their tenants ahead (a bulk load, a benchmark). As on
    /// first use, the new directory is made durable by the tenant's first write.
    ///
    /// - Throws: `.closed` after `close()`, `.tooManyOpenTenants`, `.io` when it cannot be made.
    public func createTenant(_ tenant: TenantID) throws(LogError) {
        guard !closed.load(ordering: .acquiring) else { throw LogError(.closed, "the store is closed") }
        _ = try acquire(tenant, create: true)
        release(tenant)
    }

    /// Runs `body` with the tenant's log open, keeping it out of LRU eviction meanwhile.
    func withTenant<R>(_ tenant: TenantID, create: Bool, _ body: (TenantLog) throws -> R) throws -> R {
        let log = try acquire(tenant, create: create)
        defer { release(tenant) }
        return try body(log)
    }

    func acquire(_ tenant: TenantID, create: Bool) throws(LogError) -> TenantLog {
        enum Step {
            case ready(TenantLog)
            case wait(OpeningGate)
            case open(OpeningGate)
        }
        while true {
            let step = try table.withLock { (t: inout TenantTable) throws(LogError) -> Step in
                if let log = t.use(tenant) { return .ready(log) }
                if let gate = t.opening[tenant] { return .wait(gate) }
                try makeRoom(in: &t)
                let gate = OpeningGate(create: create)
                t.opening[tenant] = gate
                return .open(gate)
            }
            switch step {
            case .ready(let log):
                return log
            case .wait(let gate):
                gate.wait()  // then look again: open now, or the opener failed and this one tries
            case .open(let gate):
                return try open(tenant, create: create, gate: gate, pinned: true)
            }
        }
    }

    /// Makes room in the table for one more tenant: evicts the least recently used environment
    /// nobody is using when the bound is reached. Its last reference goes with the slot, which
    /// closes it: never two handles on one environment.
    private func makeRoom(in t: inout TenantTable) throws(LogError) {
        guard t.open.count + t.opening.count >= options.maxOpenTenants else { return }
        guard let victim = t.open.filter({ $0.value.users == 0 }).min(by: { $0.value.lastUse < $1.value.lastUse })
        else {
            throw LogError(.tooManyOpenTenants, "all \(options.maxOpenTenants) open tenant slots are busy; retry")
        }
        t.open[victim.key] = nil
    }

    /// Opens `tenant`'s environment for `acquire`, outside the table lock: opening reads the
    /// chain head and the dedup runs, may clear projections stored in an older format, and
    /// creates a new tenant's files; under the lock, that stalled every other tenant's appends
    /// and reads meanwhile. The `opening` entry keeps one environment per tenant in this process.
    ///
    /// The appends that waited for it (`OpeningGate.waiting`) are queued, in order, in the same
    /// critical section that makes the tenant visible, so that none submitted later passes them;
    /// when opening fails, they fail with its error. `pinned`: the caller keeps a use of it.
    @discardableResult
    func open(
        _ tenant: TenantID, create: Bool, gate: OpeningGate, pinned: Bool
    ) throws(LogError)
        -> TenantLog
    {
        defer { gate.finish() }
        let log: TenantLog
        do {
            log = try TenantLog.open(
                tenant: tenant, directory: tenantsDirectory, options: options, create: create,
                committedBudget: committedBudget)
        } catch {
            let waiting = table.withLock { t in
                t.opening[tenant] = nil
                return gate.waiting
            }
            for append in waiting {
                queuedEvents.subtract(append.encoded.count, ordering: .relaxed)
                inFlight.subtract(1, ordering: .relaxed)
                append.completion(.failure(error))
            }
            throw error
        }
        let schedule = table.withLock { t -> Bool in
            t.opening[tenant] = nil
            t.open[tenant] = Slot(log: log, users: gate.waiting.count + (pinned ? 1 : 0), lastUse: t.clock)
            guard !gate.waiting.isEmpty else { return false }
            return log.queue.withLock { q -> Bool in
                for append in gate.waiting {
                    q.queuedEvents += append.encoded.count
                    q.pending.append(append)
                }
                gate.waiting = []
                if q.scheduled { return false }
                q.scheduled = true
                return true
            }
        }
        if schedule { scheduler.schedule(log) }
        // Projections that trail the log when it is opened (the last process stopped before
        // their turn, or this version cleared projections stored in another format) catch up
        // now, not at the tenant's next commit, which may never come.
        if log.projected.load(ordering: .relaxed) < log.committed.load(ordering: .relaxed) {
            scheduleProjections(log)
        }
        return log
    }

    func release(_ tenant: TenantID) {
        table.withLock { t in t.open[tenant]?.users -= 1 }
    }

    // MARK: Append

    /// Appends `events` to `tenant`'s log (creating the tenant on first use) and returns once
    /// they are durable, with one outcome per event in order.
    ///
    /// The events are encoded on the calling thread (`EncodedEvents`); the objects stay with
    /// the caller.
    ///
    /// - Throws: `LogError` `.queueFull` at once when the queues are full (retry later),
    ///   `.closed` after `close()`, `.storageFull`/`.io` when the commit failed (nothing written).
    public func append(
        _ events: [Event], to tenant: TenantID, approximateBytes: Int? = nil
    ) async throws(LogError) -> [AppendOutcome] {
        try await append(EncodedEvents(events), to: tenant, approximateBytes: approximateBytes)
    }

    /// Appends events already encoded (`EncodedEvents`, e.g. by `EventValidator` straight from
    /// their JSON); as `append(_:to:approximateBytes:)`.
    public func append(
        _ encoded: consuming EncodedEvents, to tenant: TenantID, approximateBytes: Int? = nil
    ) async throws(LogError) -> [AppendOutcome] {
        // Moved through the closure: a captured parameter would stay alive until the commit.
        var moving = consume encoded
        let result = await withCheckedContinuation {
            (c: CheckedContinuation<Result<[AppendOutcome], LogError>, Never>) in
            var taken = EncodedEvents()
            swap(&taken, &moving)
            do throws(LogError) {
                try submit(consume taken, to: tenant, approximateBytes: approximateBytes) { c.resume(returning: $0) }
            } catch {
                c.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// Queues `events` for `tenant` and calls `completion` (on a commit thread) once they are
    /// durable or failed. Appends submitted to one tenant commit in submission order.
    ///
    /// The events are encoded here, on the caller's thread (`EncodedEvents`); the commit and
    /// the live projections work from that encoding, and the objects stay with the caller.
    /// `approximateBytes`, the events' size as the caller measured it (e.g. the JSON it parsed
    /// them from), counts against `maxBatchBytes`; without it, the encoding's size does.
    ///
    /// A tenant that is not open is opened (created on first use) in the background, the
    /// appends waiting for it in order; an error opening it reaches their completions.
    ///
    /// - Throws: `.queueFull`, `.closed`, `.tooManyOpenTenants` synchronously; nothing is queued then.
    public func submit(
        _ events: [Event], to tenant: TenantID, approximateBytes: Int? = nil,
        completion: @escaping @Sendable (Result<[AppendOutcome], LogError>) -> Void
    ) throws(LogError) {
        if events.isEmpty { return try submit(EncodedEvents(), to: tenant, completion: completion) }
        // Room first: a caller that retries while the queues are full must not encode each time.
        try reserveRoom(events.count)
        try admit(EncodedEvents(events), approximateBytes: approximateBytes, completion: completion, to: tenant)
    }

    /// Queues events already encoded (`EncodedEvents`); as `submit(_:to:approximateBytes:completion:)`.
    public func submit(
        _ encoded: consuming EncodedEvents, to tenant: TenantID, approximateBytes: Int? = nil,
        completion: @escaping @Sendable (Result<[AppendOutcome], LogError>) -> Void
    ) throws(LogError) {
        if encoded.isEmpty {
            guard !closed.load(ordering: .acquiring) else { throw LogError(.closed, "the store is closed") }
            return completion(.success([]))
        }
        try reserveRoom(encoded.count)
        try admit(encoded, approximateBytes: approximateBytes, completion: completion, to: tenant)
    }

    /// Counts `n` events against the store's queue bound; `admit` then queues them, or gives
    /// the room back.
    private func reserveRoom(_ n: Int) throws(LogError) {
        guard !closed.load(ordering: .acquiring) else { throw LogError(.closed, "the store is closed") }
        let total = queuedEvents.add(n, ordering: .relaxed).newValue
        if total > options.maxQueuedEvents && total != n {
            queuedEvents.subtract(n, ordering: .relaxed)
            throw LogError(.queueFull, "the store's append queues hold \(options.maxQueuedEvents) events; retry later")
        }
    }

    /// Queues an append `reserveRoom` made room for, on its tenant's queue; or, when the tenant
    /// is not open, behind its opening, which runs in the background: the caller (the HTTP
    /// server's request handler, an ingester's only thread) never waits for a tenant's files
    /// to be made or read, and a new tenant's errors reach `completion`.
    private func admit(
        _ encoded: consuming EncodedEvents, approximateBytes: Int?,
        completion: @escaping @Sendable (Result<[AppendOutcome], LogError>) -> Void, to tenant: TenantID
    ) throws(LogError) {
        enum Step {
            case ready(TenantLog)
            case joined
            case open(OpeningGate)
            case wait(OpeningGate)
        }
        let n = encoded.count
        var append: TenantLog.PendingAppend? = .init(
            encoded: encoded, bytes: approximateBytes ?? encoded.tails.count + 40 * n, completion: completion)
        while true {
            let step: Step
            do {
                step = try table.withLock { (t: inout TenantTable) throws(LogError) -> Step in
                    if let log = t.use(tenant) { return .ready(log) }
                    let gate: OpeningGate
                    let opener: Bool
                    if let opening = t.opening[tenant] {
                        guard opening.create else { return .wait(opening) }
                        if opening.waitingEvents > 0 && opening.waitingEvents + n > options.maxQueuedEventsPerTenant {
                            throw LogError(.queueFull, "tenant \(tenant)'s append queue is full; retry later")
                        }
                        (gate, opener) = (opening, false)
                    } else {
                        try makeRoom(in: &t)
                        (gate, opener) = (OpeningGate(create: true), true)
                        t.opening[tenant] = gate
                    }
                    gate.waiting.append(append.take()!)
                    gate.waitingEvents += n
                    inFlight.add(1, ordering: .relaxed)
                    return opener ? .open(gate) : .joined
                }
            } catch {
                queuedEvents.subtract(n, ordering: .relaxed)
                throw error
            }
            switch step {
            case .ready(let log):
                return try enqueue(append.take()!, to: log)
            case .joined:
                return
            case .open(let gate):
                DispatchQueue.global().async { [self] in
                    _ = try? open(tenant, create: true, gate: gate, pinned: false)
                }
                return
            case .wait(let gate):
                gate.wait()  // a reader is opening the tenant without creating it: look again after
            }
        }
    }

    /// Queues `append` on the open tenant's queue (`admit` pinned it); its size for
    /// `maxBatchBytes` is the caller's measure or the encoding's.
    private func enqueue(_ append: consuming TenantLog.PendingAppend, to log: TenantLog) throws(LogError) {
        let n = append.encoded.count
        var append: TenantLog.PendingAppend? = append
        let schedule = log.queue.withLock { q -> Bool? in
            if q.queuedEvents > 0 && q.queuedEvents + n > options.maxQueuedEventsPerTenant { return nil }
            q.pending.append(append.take()!)
            q.queuedEvents += n
            if q.scheduled { return false }
            q.scheduled = true
            return true
        }
        guard let schedule else {
            release(log.tenant)
            queuedEvents.subtract(n, ordering: .relaxed)
            throw LogError(.queueFull, "tenant \(log.tenant)'s append queue is full; retry later")
        }
        inFlight.add(1, ordering: .relaxed)
        if schedule { scheduler.schedule(log) }
    }

    /// One turn of a tenant on a commit thread: take a batch, commit it, answer its callers,
    /// and re-queue the tenant if more arrived meanwhile.
    fileprivate func runCommits(_ log: TenantLog) {
        if options.maxBatchDelayMicros > 0 {
            let queued = log.queue.withLock { $0.queuedEvents }
            if queued < options.maxBatchEvents { usleep(UInt32(options.maxBatchDelayMicros)) }
        }
        var batch = log.queue.withLock { q -> [TenantLog.PendingAppend] in
            var batch: [TenantLog.PendingAppend] = []
            var n = 0
            var bytes = 0
            while let first = q.pending.first,
                batch.isEmpty
                    || (n + first.encoded.count <= options.maxBatchEvents
                        && bytes + first.bytes <= options.maxBatchBytes)
            {
                n += first.encoded.count
                bytes += first.bytes
                batch.append(q.pending.removeFirst())
            }
            return batch
        }
        let counts = batch.map(\.encoded.count)
        let total = counts.reduce(0, +)
        var encoded = EncodedEvents()
        if batch.count == 1 {
            swap(&encoded, &batch[0].encoded)
        } else {
            encoded.reserve(total, bytes: batch.reduce(0) { $0 + $1.encoded.tails.count })
            for p in batch { encoded.append(contentsOf: p.encoded) }
        }
        let result: Result<[AppendOutcome], LogError>
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            result = .success(try log.commit(consume encoded))
            metrics.commitDuration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - started)
            metrics.commitBatchEvents.record(total)
        } catch {
            logger.error("commit failed", metadata: ["tenant": "\(log.tenant)", "error": "\(error)"])
            result = .failure(error)
        }
        if case .success = result {
            log.publish(log.head.lastSequence)
            scheduleProjections(log)
        }
        var offset = 0
        for (p, n) in zip(batch, counts) {
            p.completion(result.map { Array($0[offset..<(offset + n)]) })
            offset += n
        }
        queuedEvents.subtract(total, ordering: .relaxed)
        let again = log.queue.withLock { q -> Bool in
            q.queuedEvents -= total
            if q.pending.isEmpty {
                q.scheduled = false
                return false
            }
            return true
        }
        for _ in batch { release(log.tenant) }
        inFlight.subtract(batch.count, ordering: .relaxed)
        if again { scheduler.schedule(log) }
    }

    // MARK: Read

    /// The last committed sequence of `tenant` (0 when it has no events).
    public func lastSequence(_ tenant: TenantID) throws(LogError) -> UInt64 {
        try wrap { try withTenant(tenant, create: false) { $0.committed.load(ordering: .acquiring) } }
    }

    /// Streams `tenant`'s events with sequences in `from...to` (and occurred-at in `occurred`,
    /// when given) to `body`, in order, until it returns false. Constant memory.
    public func read(
        _ tenant: TenantID, from: UInt64 = 1, to: UInt64 = .max, occurred: Range<Timestamp>? = nil,
        _ body: (Event) throws -> Bool
    ) throws {
        guard from <= to else { return }
        try withTenant(tenant, create: false) { try $0.scan(sequences: max(from, 1)...to, occurred: occurred, body) }
    }

    /// Whether `user` of `tenant` is deactivated (their events are refused), as of the last commit.
    public func isDeactivated(_ user: UserID, in tenant: TenantID) -> Bool {
        (try? withTenant(tenant, create: false) { $0.deactivatedUsers.withLock { $0.contains(user) } }) ?? false
    }

    /// Waits until `tenant` has an event after `sequence`; returns its new last sequence.
    public func waitForEvents(_ tenant: TenantID, after sequence: UInt64) async throws(LogError) -> UInt64 {
        let log = try acquire(tenant, create: false)
        defer { release(tenant) }
        return await log.waitForEvents(after: sequence)
    }

    // MARK: Inspect

    /// Sizes and counts of one tenant.
    public struct TenantStats: Sendable {
        public var tenant: TenantID
        public var events: UInt64
        public var blocks: UInt64
        /// Uncompressed block bodies.
        public var rawBytes: UInt64
        /// Stored blocks: headers plus compressed bodies.
        public var logBytes: UInt64
        /// Every file of the tenant's environment on disk, indexes included.
        public var fileBytes: UInt64
        public var dictionaryID: UInt32
    }

    public func stats(_ tenant: TenantID) throws(LogError) -> TenantStats {
        try wrap {
            try withTenant(tenant, create: false) { log in
                let h = log.head
                var files: UInt64 = 0
                let dir = tenantsDirectory + "/" + tenant.rawValue
                for name in ["data.mdb", "lock.mdb"] {
                    var st = stat()
                    if stat(dir + "/" + name, &st) == 0 { files += UInt64(st.st_size) }
                }
                return TenantStats(
                    tenant: tenant, events: h.lastSequence, blocks: h.blocks, rawBytes: h.rawBytes,
                    logBytes: h.logBytes,
                    fileBytes: files, dictionaryID: h.dictionaryID)
            }
        }
    }

    /// Walks `tenant`'s whole chain; see `VerifyReport`.
    public func verify(_ tenant: TenantID, progress: (Int, Int) -> Void = { _, _ in }) throws(LogError) -> VerifyReport
    {
        try wrap { try withTenant(tenant, create: false) { try $0.verify(progress: progress) } }
    }

    func wrap<R>(_ body: () throws -> R) throws(LogError) -> R {
        do { return try body() } catch let e as LogError { throw e } catch {
            throw LogError(.io, "storage operation failed", cause: error)
        }
    }

    // MARK: Shutdown

    /// Stops taking appends, commits everything queued, and stops the commit threads.
    /// Appends already acknowledged are durable whether or not this runs.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        while inFlight.load(ordering: .acquiring) > 0 { usleep(200) }
        scheduler.stop()
        projectionScheduler?.stop()
        table.withLock { $0.open.removeAll() }
    }
}

/// The store's own metrics, made once from the factory it was given.
private struct StoreMetrics: Sendable {
    let commitDuration: CoreMetrics.Timer
    let commitBatchEvents: Recorder

    init(factory: any MetricsFactory) {
        commitDuration = CoreMetrics.Timer(label: "logbook_commit_duration_seconds", factory: factory)
        commitBatchEvents = Recorder(label: "logbook_commit_batch_events", factory: factory)
    }
}

/// Breaks the store → scheduler → closure → store cycle.
private final class WeakStore: @unchecked Sendable {
    // @unchecked: written once in LogStore.init before any commit can run.
    weak var store: LogStore?
}
