import DequeModule
import Foundation

/// Sets the calling thread's nice value; best effort (failure leaves the priority as it is).
private func setNiceness(_ niceness: Int32) {
    // On Linux the nice value belongs to each thread, and `who` 0 is the calling one.
    #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
    #endif
}

/// Names the calling thread as `top -H`, `ps -L` and perf show it; best effort. On Linux
/// Foundation's `Thread.name` does not reach the system, and `pthread_setname_np` is not
/// visible to Swift: the kernel takes the name (15 bytes at most) from the thread's `comm`.
private func nameThread(_ name: String) {
    #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        _ = Array(name.utf8.prefix(15)).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    #endif
}

/// A fixed pool of threads that run tenant turns: commits, and (a second pool) projection
/// catch-ups, which may ask for a turn to start no earlier than a given time.
///
/// A tenant with pending appends is queued here at most once (its `scheduled` flag), so its
/// commits are serial while different tenants commit in parallel. Commits block in fsync,
/// which is why these are plain threads and not Swift concurrency's cooperative pool.
final class CommitScheduler: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `condition`.
    private let condition = NSCondition()
    /// Tenants whose turn may start now, in the order they came.
    private var ready: Deque<Turn> = []
    /// Tenants whose turn may start only later, by that uptime (ns), earliest first.
    private var delayed: Deque<(turn: Turn, notBefore: UInt64)> = []
    private var stopping = false
    private var running = 0
    private let work: @Sendable (TenantLog) -> Void

    /// A queued turn holds its tenant's log weakly. The store's table of open tenants owns the
    /// logs, and a commit's pending appends pin theirs; a projection turn does not (waiting
    /// turns must not fill the table). When the table evicts a tenant whose turn still waits,
    /// its environment must close then and there: a later reopen of the tenant would otherwise
    /// give this process two handles on one environment, and closing the older one drops the
    /// process's locks on the environment's lock file, which another process (the CLI, say)
    /// then takes as leave to reset it. (Held strongly, a log evicted while its turn waited
    /// stayed open until the turn came; now only while a turn that has just taken it finds it
    /// evicted.) The turn of a log that is gone is skipped: its projections catch up when the
    /// tenant is opened again.
    private struct Turn {
        weak var log: TenantLog?
    }

    /// - Parameter niceness: the threads' nice value (Linux schedules threads one by one; 0
    ///   leaves it as it is), so that background work such as projections can yield the CPU.
    init(
        threads: Int, name: String = "lb-commit", niceness: Int32 = 0,
        work: @escaping @Sendable (TenantLog) -> Void
    ) {
        self.work = work
        running = threads
        for i in 0..<threads {
            let threadName = "\(name)-\(i)"
            let thread = Thread { [self] in
                nameThread(threadName)
                if niceness != 0 { setNiceness(niceness) }
                loop()
            }
            thread.name = threadName
            thread.start()
        }
    }

    /// Queues a turn for `log`, to start no earlier than `notBefore` (uptime, nanoseconds).
    func schedule(_ log: TenantLog, notBefore: UInt64 = 0) {
        condition.lock()
        if notBefore <= DispatchTime.now().uptimeNanoseconds {
            ready.append(Turn(log: log))
        } else {
            // Callers delay by one fixed interval, so this lands at or near the end.
            var i = delayed.endIndex
            while i > delayed.startIndex && delayed[i - 1].notBefore > notBefore { i -= 1 }
            delayed.insert((Turn(log: log), notBefore), at: i)
        }
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            // Delays that ran out join the ready tenants; stopping drains at once, delays or not.
            let now = DispatchTime.now().uptimeNanoseconds
            while let first = delayed.first, first.notBefore <= now || stopping {
                ready.append(delayed.removeFirst().turn)
            }
            if let turn = ready.popFirst() {
                guard let log = turn.log else { continue }
                condition.unlock()
                work(log)
                condition.lock()
            } else if stopping {
                break
            } else if let first = delayed.first {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(first.notBefore - now) / 1e9))
            } else {
                condition.wait()
            }
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
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
