import DequeModule
import Synchronization

/// Events a tenant committed that its live projections have not applied yet, kept in memory
/// so that the next projection turn applies them as they are, instead of reading back,
/// decompressing and decoding the blocks that were just written (a fifth of a live turn).
///
/// Held as the commits' encoded batches (`EncodedEvents`): one buffer per commit rather than
/// objects per event, which the ingest threads then need not make for the projections, nor
/// the projection threads free cold. A turn decodes what it takes, outside the lock.
///
/// Only an optimisation: a turn takes from here what continues its checkpoint and reads
/// everything else from the log, so a dropped or cleared buffer costs time, never events.
struct CommittedEvents {
    /// Consecutive events of one commit: `encoded[range]`, the first with sequence `first`.
    struct Piece: Sendable {
        var encoded: EncodedEvents
        var range: Range<Int>
        var first: UInt64
        var recordedAt: Timestamp

        /// Its first `n` events; the rest stay.
        mutating func removeFirst(_ n: Int) -> Piece {
            var head = self
            head.range = range.lowerBound..<(range.lowerBound + n)
            range = (range.lowerBound + n)..<range.upperBound
            first += UInt64(n)
            return head
        }
    }

    /// A turn that takes this many events or more decodes their strings through a cache of
    /// `cacheSlots` slots (fewer: the slots would cost more than they save).
    static let cachedFrom = 32
    static let cacheSlots = 512

    /// The sequence of the first event held (when any is).
    var first: UInt64 { pieces.first?.first ?? 0 }
    /// How many events are held.
    private(set) var count = 0
    private var pieces: Deque<Piece> = []

    /// Appends a commit's `encoded` events, the first with sequence `start`, when it continues
    /// the buffer or the buffer is empty; false otherwise. The older events are the ones the
    /// next turn needs first, so a buffer that ends before a hole (events left out for the
    /// budget) stays as it is, and what comes after the hole is read from the log.
    mutating func append(_ encoded: EncodedEvents, first start: UInt64, recordedAt: Timestamp) -> Bool {
        guard !encoded.isEmpty else { return true }
        if count > 0 && first + UInt64(count) != start { return false }
        pieces.append(Piece(encoded: encoded, range: 0..<encoded.count, first: start, recordedAt: recordedAt))
        count += encoded.count
        return true
    }

    /// Removes and returns the events after `checkpoint` through `last`, when the buffer
    /// continues `checkpoint`; drops what `checkpoint` already covers. Second: how many events
    /// left the buffer.
    mutating func take(after checkpoint: UInt64, through last: UInt64) -> ([Piece], Int) {
        var removed = 0
        if count > 0 && first <= checkpoint {
            let stale = Int(min(UInt64(count), checkpoint - first + 1))
            _ = removeFirst(stale)
            removed += stale
        }
        guard count > 0, first == checkpoint + 1, last > checkpoint else { return ([], removed) }
        let n = Int(min(UInt64(count), last - checkpoint))
        return (removeFirst(n), removed + n)
    }

    private mutating func removeFirst(_ n: Int) -> [Piece] {
        var out: [Piece] = []
        var left = n
        while left > 0, var piece = pieces.popFirst() {
            if piece.range.count > left {
                out.append(piece.removeFirst(left))
                pieces.prepend(piece)
                left = 0
            } else {
                left -= piece.range.count
                out.append(piece)
            }
        }
        count -= n
        return out
    }

    mutating func removeAll() -> Int {
        defer {
            pieces.removeAll()
            count = 0
        }
        return count
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
    /// Keeps a commit's new events (`encoded`, the first with sequence `first`) for the live
    /// projections, when the store's budget allows and they continue the buffer; otherwise the
    /// turn reads them from the log.
    func rememberCommitted(_ encoded: EncodedEvents, first: UInt64, recordedAt: Timestamp) {
        guard let budget = committedBudget, !encoded.isEmpty else { return }
        committedEvents.withLock { buffer in
            guard budget.reserve(encoded.count) else { return }
            if !buffer.append(encoded, first: first, recordedAt: recordedAt) { budget.release(encoded.count) }
        }
    }

    /// The sequence the buffer starts at, if it holds events.
    func firstCommitted() -> UInt64? {
        committedEvents.withLock { $0.count == 0 ? nil : $0.first }
    }

    /// The buffered events that continue `checkpoint`, through `last` (see `CommittedEvents`),
    /// as the commits encoded them: a turn decodes what it needs outside the buffer's lock.
    func takeCommitted(after checkpoint: UInt64, through last: UInt64) -> [CommittedEvents.Piece] {
        guard let budget = committedBudget else { return [] }
        return committedEvents.withLock { buffer in
            let (pieces, removed) = buffer.take(after: checkpoint, through: last)
            budget.release(removed)
            return pieces
        }
    }

    /// Gives the buffer's share of the budget back (the environment is closing).
    func forgetCommitted() {
        guard let budget = committedBudget else { return }
        budget.release(committedEvents.withLock { $0.removeAll() })
    }
}
