import DequeModule
import Foundation

/// Sets the calling thread's nice value; best effort (failure leaves the priority as it is).
private func setNiceness(_ niceness: Int32) {
    // On Linux the nice value belongs to each thread, and `who` 0 is the calling one.
    #if os(Linux)
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
    #endif
}

/// A fixed pool of threads that run tenant commits.
///
/// A tenant with pending appends is queued here at most once (its `scheduled` flag), so its
/// commits are serial while different tenants commit in parallel. Commits block in fsync,
/// which is why these are plain threads and not Swift concurrency's cooperative pool.
final class CommitScheduler: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `condition`.
    private let condition = NSCondition()
    /// Tenants in turn, each with the uptime (ns) before which its turn must not start.
    private var ready: Deque<(log: TenantLog, notBefore: UInt64)> = []
    private var stopping = false
    private var running = 0
    private let work: @Sendable (TenantLog) -> Void

    /// - Parameter niceness: the threads' nice value (Linux schedules threads one by
    ///   one; 0 leaves it as it is): background work such as projections yields the CPU to commits and requests.
    init(
        threads: Int, name: String = "logbook-commit", niceness: Int32 = 0,
        work: @escaping @Sendable (TenantLog) -> Void
    ) {
        self.work = work
        running = threads
        for i in 0..<threads {
            let thread = Thread { [self] in
                if niceness != 0 { setNiceness(niceness) }
                loop()
            }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    /// Queues a turn for `log`, to start no earlier than `notBefore` (uptime, nanoseconds).
    ///
    /// Turns start in the order they were queued: callers that delay use one fixed delay, so
    /// that order is also the order of their start times.
    func schedule(_ log: TenantLog, notBefore: UInt64 = 0) {
        condition.lock()
        ready.append((log, notBefore))
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            var next: TenantLog?
            while next == nil {
                if let first = ready.first {
                    let now = DispatchTime.now().uptimeNanoseconds
                    // Stopping drains at once, delays or not.
                    if first.notBefore <= now || stopping {
                        next = ready.popFirst()!.log
                    } else {
                        _ = condition.wait(until: Date(timeIntervalSinceNow: Double(first.notBefore - now) / 1e9))
                    }
                } else if stopping {
                    break
                } else {
                    condition.wait()
                }
            }
            guard let log = next else {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            work(log)
        }
    }

    /// Lets the threads finish what is queued, then stops them and waits for them to exit.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
