import DequeModule
import Synchronization

/// Events a tenant committed that its live projections have not applied yet, kept in memory
/// so that the next projection turn applies them as they are, instead of reading back,
/// decompressing and decoding the blocks that were just written (a fifth of a live turn).
///
/// Only an optimisation: a turn takes from here what continues its checkpoint and reads
/// everything else from the log, so a dropped or cleared buffer costs time, never events.
struct CommittedEvents {
    /// The sequence of `events.first`.
    private(set) var first: UInt64 = 0
    private(set) var events: Deque<Event> = []

    /// Appends `new` (consecutive sequences) when it continues the buffer or the buffer is
    /// empty; false otherwise. The older events are the ones the next turn needs first, so a
    /// buffer that ends before a hole (events left out for the budget) stays as it is, and
    /// what comes after the hole is read from the log.
    mutating func append(_ new: [Event]) -> Bool {
        guard let start = new.first?.sequence else { return true }
        if events.isEmpty {
            first = start
        } else if first + UInt64(events.count) != start {
            return false
        }
        events.append(contentsOf: new)
        return true
    }

    /// Removes and returns the events after `checkpoint` through `last`, when the buffer
    /// continues `checkpoint`; drops what `checkpoint` already covers. Second: how many events
    /// left the buffer.
    mutating func take(after checkpoint: UInt64, through last: UInt64) -> ([Event], Int) {
        var removed = 0
        if !events.isEmpty && first <= checkpoint {
            let stale = Int(min(UInt64(events.count), checkpoint - first + 1))
            events.removeFirst(stale)
            first += UInt64(stale)
            removed += stale
        }
        guard !events.isEmpty, first == checkpoint + 1, last > checkpoint else { return ([], removed) }
        let n = Int(min(UInt64(events.count), last - checkpoint))
        // Moved out one by one: copying a prefix and then removing it retained and released
        // every string and payload of every event once more.
        var out: [Event] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(events.removeFirst()) }
        first += UInt64(n)
        return (out, removed + n)
    }

    mutating func removeAll() -> Int {
        defer { events.removeAll() }
        return events.count
    }
}

/// The events all tenants' `CommittedEvents` may hold together: memory stays bounded however
/// far the projection threads fall behind, or however many tenants commit.
final class CommittedEventsBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Reserves `n` events; false (and nothing reserved) when that would pass the limit.
    func reserve(_ n: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + n <= limit else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + n, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ n: Int) {
        if n != 0 { used.subtract(n, ordering: .relaxed) }
    }

    var inUse: Int { used.load(ordering: .relaxed) }
}

extension TenantLog {
    /// Keeps `new` (just committed, consecutive sequences) for the live projections, when the
    /// store's budget allows and it continues the buffer; otherwise the turn reads it from the
    /// log.
    func rememberCommitted(_ new: [Event]) {
        guard let budget = committedBudget, !new.isEmpty else { return }
        committedEvents.withLock { buffer in
            guard budget.reserve(new.count) else { return }
            if !buffer.append(new) { budget.release(new.count) }
        }
    }

    /// The sequence the buffer starts at, if it holds events.
    func firstCommitted() -> UInt64? {
        committedEvents.withLock { $0.events.isEmpty ? nil : $0.first }
    }

    /// The buffered events that continue `checkpoint`, through `last` (see `CommittedEvents`).
    func takeCommitted(after checkpoint: UInt64, through last: UInt64) -> [Event] {
        guard let budget = committedBudget else { return [] }
        return committedEvents.withLock { buffer in
            let (events, removed) = buffer.take(after: checkpoint, through: last)
            budget.release(removed)
            return events
        }
    }

    /// Gives the buffer's share of the budget back (the environment is closing).
    func forgetCommitted() {
        guard let budget = committedBudget else { return }
        budget.release(committedEvents.withLock { $0.removeAll() })
    }
}
