import Foundation
import LogbookLMDB
import LogbookZstd

/// Keeping a tenant's projections up to date, rebuilding them, and computing them as of an
/// earlier point (specs/projections.md).
extension TenantLog {
    /// Events applied per write transaction: bounds the memory of one batch and how long the
    /// projector holds the tenant's write lock (appends wait meanwhile).
    static let projectionBatchEvents: UInt64 = 20_000

    /// The live generation's tables, as recorded in `meta` in `txn`'s snapshot.
    func liveTables<T: Transaction & ~Copyable>(in txn: borrowing T) throws -> ProjectionTables {
        let g = try ProjectionTables.generationKey.withUnsafeBytes { k in
            try txn.get(meta, key: k) { $0?.first ?? 1 }
        }
        return g == 2 ? projectionTables.1 : projectionTables.0
    }

    /// The log's last sequence in `txn`'s snapshot (also right when another process appended).
    func storedHead<T: Transaction & ~Copyable>(in txn: borrowing T) throws -> UInt64 {
        try TenantLog.headKey.withUnsafeBytes { k in
            try txn.get(meta, key: k) { v in try v.map { try ChainHead(decoding: $0).lastSequence } ?? 0 }
        }
    }

    /// Live checkpoint and log head, from one read snapshot.
    func projectionPosition() throws -> (checkpoint: UInt64, head: UInt64) {
        try env.read { txn in
            (try liveTables(in: txn).checkpoint(in: txn), try storedHead(in: txn))
        }
    }

    /// Applies every event after the live checkpoint, at most `projectionBatchEvents` per write
    /// transaction, and returns the new checkpoint.
    ///
    /// Each batch is folded in a read snapshot and only its result written under the tenant's
    /// write lock, which the log's commits share: a commit waits for the projections' puts and
    /// flush, not for their work — nor for a projection thread that lost the CPU mid-fold.
    /// `projectionLock` keeps any other writer of the projections (a rebuild) out meanwhile.
    ///
    /// The transactions do not flush LMDB's meta page (`syncMeta: false`): projections derive
    /// from the log, so a system crash that undoes a turn only moves the checkpoint back, and the
    /// next turn applies those events again. A turn then costs one flush instead of two.
    @discardableResult
    func catchUpProjections() throws -> UInt64 {
        projectionLock.lock()
        defer { projectionLock.unlock() }
        var position = try projectionPosition()
        while position.checkpoint < position.head {
            let before = position.checkpoint
            var (projector, head) = try env.read { txn in
                var projector = try Projector(tables: try liveTables(in: txn), in: txn)
                let head = try storedHead(in: txn)
                let upTo = min(head, projector.checkpoint + TenantLog.projectionBatchEvents)
                try applyCommittedOrLog(to: &projector, upTo: upTo, txn)
                return (projector, head)
            }
            let stored = try env.write(syncMeta: false) { (txn: inout WriteTransaction) throws -> Bool in
                // Only another process (`logbook replay` next to a server) can have changed them
                // meanwhile; then this fold is stale: drop it and start again from what is there.
                let live = try liveTables(in: txn)
                guard live.generation == projector.tables.generation, try live.checkpoint(in: txn) == before else {
                    return false
                }
                try projector.flush(txn)
                return true
            }
            guard stored else {
                position = try projectionPosition()
                continue
            }
            position = (projector.checkpoint, head)
            projected.store(position.checkpoint, ordering: .releasing)
            try TenantLog.requireProgress(before, position.checkpoint, position.head, tenant)
        }
        projected.store(position.checkpoint, ordering: .releasing)
        // A commit can hand its events over after a turn read them from the log: let them go.
        _ = takeCommitted(after: position.checkpoint, through: position.checkpoint)
        return position.checkpoint
    }

    /// Applies the events after the checkpoint through `last`: from the commits' buffer where
    /// it continues the checkpoint, from the log up to where the buffer starts, then from the
    /// buffer again, and from the log for whatever is left.
    private func applyCommittedOrLog(
        to projector: inout Projector, upTo last: UInt64, _ txn: borrowing ReadTransaction
    )
        throws
    {
        func fromMemory(_ projector: inout Projector) throws {
            let pieces = takeCommitted(after: projector.checkpoint, through: last)
            // A turn's events repeat their app names and titles: each distinct one is made once.
            var strings = CachedInlineStrings()
            if pieces.reduce(0, { $0 + $1.range.count }) >= CommittedEvents.cachedFrom {
                strings.cache.enable(slots: CommittedEvents.cacheSlots)
            }
            for piece in pieces { try projector.apply(piece, from: self, strings: &strings, txn) }
        }
        try fromMemory(&projector)
        if projector.checkpoint < last, let first = firstCommitted(), first > projector.checkpoint + 1, first <= last {
            try applyLog(to: &projector, upTo: first - 1, txn)
            try fromMemory(&projector)
        }
        try applyLog(to: &projector, upTo: last, txn)
    }

    /// Rebuilds every projection from sequence 1 into the other generation and switches to it
    /// atomically; `progress` gets (applied, head) after each batch.
    ///
    /// Only the switch is flushed completely: the batches before it fill a generation nobody
    /// reads, which a crash leaves unused (`syncMeta: false`, as for live turns).
    func rebuildProjections(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws -> UInt64 {
        projectionLock.lock()
        defer { projectionLock.unlock() }
        // The category rules in force now apply to all of history (specs/projections.md).
        let (target, rules, headBefore) = try env.write(syncMeta: false) { (txn: inout WriteTransaction) throws in
            let live = try liveTables(in: txn)
            let target = live.generation == 1 ? projectionTables.1 : projectionTables.0
            try target.clear(in: txn)
            return (target, try Projector.setting("categories", tables: live, in: txn), try storedHead(in: txn))
        }
        var checkpointBefore: UInt64 = 0
        var head = headBefore
        while true {
            // The log only grows: a batch that cannot reach the head seen before cannot be the switch.
            let last = head - checkpointBefore <= TenantLog.projectionBatchEvents
            let (applied, newHead, done) = try env.write(syncMeta: last) { (txn: inout WriteTransaction) throws in
                var projector = try Projector(tables: target, in: txn)
                if let rules { projector.pinCategories(rules) }
                let head = try storedHead(in: txn)
                let upTo = min(head, projector.checkpoint + TenantLog.projectionBatchEvents)
                try applyLog(to: &projector, upTo: upTo, txn)
                try projector.flush(txn)
                guard upTo == head else { return (projector.checkpoint, head, false) }
                // Caught up inside this transaction: no append can slip in before the switch.
                let old = try liveTables(in: txn)
                try ProjectionTables.generationKey.withUnsafeBytes { k in
                    try withUnsafeBytes(of: target.generation) { v in try txn.put(meta, key: k, value: v) }
                }
                if old.generation != target.generation { try old.clear(in: txn) }
                return (projector.checkpoint, head, true)
            }
            head = newHead
            progress(applied, head)
            try TenantLog.requireProgress(checkpointBefore, applied, head, tenant)
            checkpointBefore = applied
            if done {
                projected.store(applied, ordering: .releasing)
                return applied
            }
        }
    }

    /// A batch that applied nothing while the log holds more means the log lacks those
    /// sequences: fail instead of trying forever.
    static func requireProgress(_ before: UInt64, _ after: UInt64, _ head: UInt64, _ tenant: TenantID) throws {
        if after == before && after < head {
            throw LogError(.corrupt, "the projections of tenant \(tenant) cannot get past sequence \(after)")
        }
    }

    /// Applies the log's events after `projector`'s checkpoint up to `last`, reading the log in
    /// `log` and the projection's state in `txn`.
    func applyLog<L: Transaction & ~Copyable, T: Transaction & ~Copyable>(
        to projector: inout Projector, upTo last: UInt64, _ log: borrowing L, state txn: borrowing T,
        stop: (Event) -> Bool = { _ in false }
    ) throws -> Bool {
        var next = projector.checkpoint + 1
        guard next <= last else { return false }
        var reader = BlockReader()
        return try log.withCursor(self.log) { cursor in
            var entry = try TenantLog.blockKey(next).withUnsafeBytes { kb -> Cursor.Entry? in
                let at = try cursor.seek(atLeast: kb)
                if let at, at.key.elementsEqual(kb) { return at }
                // The block holding `next` may start before it.
                let previous = try at == nil ? cursor.last() : cursor.previous()
                guard let before = previous else { return try cursor.first() }
                if try BlockHeader(decoding: before.value).lastSequence >= next { return before }
                return try cursor.next()
            }
            while let e = entry, next <= last {
                // The next block's pages load while this one decodes (a value stays valid
                // until the transaction ends, wherever the cursor goes).
                let following = try cursor.next()
                if let following { prefetch(following.value) }
                try decodeBlock(e.value, with: &reader)
                for event in reader.events where event.sequence >= next && event.sequence <= last {
                    if stop(event) { return true }
                    try projector.apply(event, from: self, log: log, state: txn)
                    next = event.sequence + 1
                }
                entry = following
            }
            return false
        }
    }

    /// Same, with the log and the state read in one transaction.
    func applyLog<T: Transaction & ~Copyable>(
        to projector: inout Projector, upTo last: UInt64, _ txn: borrowing T
    )
        throws
    {
        _ = try applyLog(to: &projector, upTo: last, txn, state: txn)
    }

    /// Computes every projection as of sequence `sequence`, or of the last event recorded at or
    /// before `time`, into a fresh scratch environment in `directory` — the live state is not
    /// touched. Returns the scratch environment and its tables.
    func projectAsOf(
        sequence: UInt64?, time: Timestamp?, directory: String
    ) throws -> (env: Environment, tables: ProjectionTables, checkpoint: UInt64) {
        var options = Environment.Options()
        options.noSync = true  // scratch: thrown away after the query
        options.mapSize = self.options.mapSize
        options.maxDatabases = 16
        let scratch = try Environment(path: directory, options: options)
        let tables = try scratch.write { (txn: inout WriteTransaction) throws in
            try ProjectionTables.open(generation: 1, in: txn)
        }
        let head = try env.read { try storedHead(in: $0) }
        let last = min(sequence ?? head, head)
        var checkpoint: UInt64 = 0
        var done = false
        while !done && checkpoint < last {
            let before = checkpoint
            try env.read { logTxn in
                try scratch.write { (txn: inout WriteTransaction) throws in
                    var projector = try Projector(tables: tables, in: txn)
                    let upTo = min(last, projector.checkpoint + TenantLog.projectionBatchEvents)
                    let stopped = try applyLog(to: &projector, upTo: upTo, logTxn, state: txn) { event in
                        time.map { event.recordedAt > $0 } ?? false
                    }
                    try projector.flush(txn)
                    checkpoint = projector.checkpoint
                    done = stopped || upTo == last
                }
            }
            if !done { try TenantLog.requireProgress(before, checkpoint, last, tenant) }
        }
        return (scratch, tables, checkpoint)
    }
}
