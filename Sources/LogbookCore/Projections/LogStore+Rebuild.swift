import Foundation
import Synchronization

/// How far a rebuild of many tenants has come.
public struct RebuildProgress: Sendable {
    public var tenantsDone: Int
    public var tenants: Int
    /// Events applied so far, over all tenants, and the events there are to apply.
    public var events: UInt64
    public var totalEvents: UInt64
}

extension LogStore {
    /// Rebuilds the projections of `tenants` (every tenant when nil), several at a time, each
    /// as `rebuildProjections(_:)` does; returns the events applied. Largest tenants first, so
    /// the last one to finish is a small one.
    ///
    /// `concurrency` defaults to two per core: a rebuild writes its state out and waits for the
    /// flush, and another tenant's rebuild uses the core meanwhile. More than that only made
    /// the rebuilds compete for the caches (on the benchmark's workload, two per core beat four
    /// per core in each of four alternating pairs of runs, by 4–49 %; one per core left the
    /// cores idle a third of the time). The first failure stops handing out tenants and is
    /// thrown once the running rebuilds finish; the tenants rebuilt by then stay rebuilt (each
    /// switch is atomic on its own).
    @discardableResult
    public func rebuildProjections(
        of tenants: [TenantID]? = nil, concurrency: Int? = nil,
        progress: @escaping @Sendable (RebuildProgress) -> Void = { _ in }
    ) throws(LogError) -> UInt64 {
        var sized: [(tenant: TenantID, events: UInt64)] = []
        for t in tenants ?? self.tenants() { sized.append((t, try lastSequence(t))) }  // sequences are dense
        sized.sort { $0.events > $1.events }
        let work = sized
        let total = work.reduce(0) { $0 + $1.events }
        let workers = max(1, min(concurrency ?? 2 * ProcessInfo.processInfo.activeProcessorCount, work.count))

        struct State {
            var next = 0
            var tenantsDone = 0
            var finished: UInt64 = 0
            /// Per running tenant: events applied so far.
            var running: [TenantID: UInt64] = [:]
            var failure: LogError?
        }
        let state = Mutex(State())
        let report = { @Sendable (s: borrowing State) -> RebuildProgress in
            RebuildProgress(
                tenantsDone: s.tenantsDone, tenants: work.count,
                events: s.finished + s.running.values.reduce(0, +), totalEvents: total)
        }
        let worker = { @Sendable in
            while let i = state.withLock({ s -> Int? in
                guard s.failure == nil, s.next < work.count else { return nil }
                s.next += 1
                return s.next - 1
            }) {
                let tenant = work[i].tenant
                do throws(LogError) {
                    let applied = try self.rebuildProjections(tenant) { done, _ in
                        progress(
                            state.withLock { s in
                                s.running[tenant] = done
                                return report(s)
                            })
                    }
                    progress(
                        state.withLock { s in
                            s.running[tenant] = nil
                            s.finished += applied
                            s.tenantsDone += 1
                            return report(s)
                        })
                } catch {
                    state.withLock { s in if s.failure == nil { s.failure = error } }
                }
            }
        }
        // Threads of their own, not Dispatch's: concurrentPerform runs at most one per core.
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<workers {
            Thread.detachNewThread {
                worker()
                done.signal()
            }
        }
        for _ in 0..<workers { done.wait() }
        return try state.withLock { s throws(LogError) -> UInt64 in
            if let failure = s.failure { throw failure }
            return s.finished
        }
    }
}
