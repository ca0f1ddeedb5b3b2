import LogbookCrypto
import LogbookLMDB
import LogbookZstd

extension TenantLog {
    /// Commits `events` in one durable write transaction: duplicates are answered with the
    /// original sequence, the rest get the next sequences, blocks are appended and chained,
    /// and the dedup index and chain head are updated. Runs on a commit worker thread.
    ///
    /// All or nothing: when it throws, nothing was written and the in-memory head is unchanged.
    ///
    /// `events` is consumed: when the caller hands over the only reference, the events kept
    /// for the live projections get their sequence and recorded-at in place, not in copies.
    @available(*, noasync)
    func commit(_ events: consuming [Event]) throws(LogError) -> [AppendOutcome] {
        var newHead = head
        var newRuns = dedupRuns
        var newDeactivated = deactivated
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(events.count)
        var recordedAt = Timestamp(microseconds: 0)
        // A dictionary trained since the last commit: stored and used from this commit on.
        let trained = training.peek()
        do {
            try env.write { (txn: inout WriteTransaction) throws in
                if case .trained(let bytes, let dictionary)? = trained, newHead.dictionaryID == 0 {
                    try TenantLog.dictionaryKey(dictionary.id).withUnsafeBytes { k in
                        try bytes.withUnsafeBytes { v in try txn.put(meta, key: k, value: v) }
                    }
                    dictionaries.withLock { $0[dictionary.id] = dictionary }
                    newHead.dictionaryID = dictionary.id
                }
                if newHead.lastSequence >= nextTrainingAt {
                    try startTraining(txn)
                }
                let keys = events.withUnsafeBufferPointer { TenantLog.sortedIDKeys($0) }
                let stored = try lookupDuplicates(
                    sortedKeys: keys, id: { events[$0].id }, runs: newRuns, in: txn)
                let now = max(options.clock(), newHead.lastRecorded)
                recordedAt = now
                // The new events keep the caller's array unless some are not stored; sequences
                // and recorded-at are passed alongside.
                var batch = BatchView(
                    first: newHead.lastSequence + 1, fresh: [], ids: IDTable(capacity: events.count))
                batch.fresh.reserveCapacity(events.count)
                var overlay = CorrectionOverlay()
                for i in events.indices {
                    let id = events[i].id
                    if let duplicate = batch.ids[id] ?? stored[i] {
                        outcomes.append(.duplicate(sequence: duplicate))
                        continue
                    }
                    if let user = events[i].subject, !newDeactivated.isEmpty, newDeactivated.contains(user),
                        !TenantLog.concernsDeactivatedUsers(events[i].type)
                    {
                        outcomes.append(.refused(.userDeactivated))
                        continue
                    }
                    let sequence = batch.first + UInt64(batch.fresh.count)
                    let type = events[i].type
                    if type == .eventCorrected || type == .eventRetracted {
                        switch try checkCorrection(events, i, batch: batch, overlay: overlay, in: txn) {
                        case .failure(let refusal):
                            outcomes.append(.refused(refusal))
                            continue
                        case .success(let (root, occurred)):
                            overlay.entries[sequence] = CorrectionEntry(kind: .link, root: root, occurred: occurred)
                            if type == .eventRetracted {
                                overlay.entries[root] = CorrectionEntry(
                                    kind: .retracted, root: root, occurred: occurred)
                            }
                        }
                    }
                    // Deactivation takes effect from the next event on, also within this batch.
                    if let user = events[i].subject {
                        if type == .userDeactivated {
                            newDeactivated.insert(user)
                        } else if type == .userReactivated {
                            newDeactivated.remove(user)
                        }
                    }
                    batch.ids.set(id, sequence)
                    batch.fresh.append(i)
                    outcomes.append(.appended(sequence: sequence))
                }
                let fresh = batch.fresh.count == events.count ? events : batch.fresh.map { events[$0] }
                let first = newHead.lastSequence + 1
                var start = 0
                while start < fresh.count {
                    let end = min(start + options.maxBlockEvents, fresh.count)
                    try writeBlock(
                        fresh[start..<end], firstSequence: first + UInt64(start), recordedAt: now, txn: txn,
                        head: &newHead)
                    start = end
                }
                // All new (the usual case): the batch's sorted keys are already the new run's.
                let freshKeys =
                    fresh.count == events.count ? keys : fresh.withUnsafeBufferPointer { TenantLog.sortedIDKeys($0) }
                try recordIDs(freshKeys, firstSequence: first, runs: &newRuns, in: txn)
                try writeCorrections(overlay, in: txn)
                if newDeactivated != deactivated {
                    try recordDeactivations(from: deactivated, to: newDeactivated, in: txn)
                }
                if !fresh.isEmpty || newHead.dictionaryID != head.dictionaryID {
                    let encoded = newHead.encode()
                    try TenantLog.headKey.withUnsafeBytes { k in
                        try encoded.withUnsafeBytes { v in try txn.put(meta, key: k, value: v) }
                    }
                }
            }
        } catch let error as LMDBError where error.isMapFull {
            throw LogError(
                .storageFull, "the log of tenant \(tenant) reached its map size; raise mapSize", cause: error)
        } catch let error as LogError {
            throw error
        } catch {
            throw LogError(.io, "commit to the log of tenant \(tenant) failed", cause: error)
        }
        syncNewDirectories()
        head = newHead
        settleTraining(trained)
        dedupRuns = newRuns
        if newDeactivated != deactivated {
            deactivated = newDeactivated
            deactivatedUsers.withLock { $0 = newDeactivated }
        }
        // For the live projections, unless the store-wide budget is spent anyway.
        if let budget = committedBudget, budget.inUse < budget.limit {
            // Moved, not copied: with `events` still alive, the stamping below copied the whole
            // array (a retain of every string and payload, and a release when it died).
            var committed = consume events
            var kept = 0
            for (i, outcome) in outcomes.enumerated() {
                guard case .appended(let sequence) = outcome else { continue }
                if kept != i { committed.swapAt(kept, i) }
                committed[kept].sequence = sequence
                committed[kept].recordedAt = recordedAt
                kept += 1
            }
            committed.removeLast(committed.count - kept)
            rememberCommitted(committed)
        }
        return outcomes
    }

    /// Encodes, hashes, compresses and appends one block.
    private func writeBlock(
        _ events: ArraySlice<Event>, firstSequence: UInt64, recordedAt: Timestamp, txn: borrowing WriteTransaction,
        head: inout ChainHead
    ) throws {
        let (leaves, minO, maxO) = events.withUnsafeBufferPointer {
            TenantLog.eventHashes($0, firstSequence: firstSequence, recordedAt: recordedAt, scratch: scratch)
        }
        let root = ChainHash.merkleRoot(leaves)
        let body = BlockBody.encode(events, recordedAt: recordedAt)
        let dict = try dictionary(head.dictionaryID)
        // The id column goes as it is, the rest through zstd (`Codec.zstdAfterIDs`).
        let codec = options.blockCodec
        var compressed: [UInt8] = []
        try body.withUnsafeBytes { raw in
            let plain = codec == .zstdAfterIDs ? BlockBody.idColumnEnd(ofEncoded: raw) : 0
            // Room for the frame's worst case too: `compress` would otherwise grow the array
            // (copying the ids) to reserve it.
            compressed.reserveCapacity(plain + ZstdCompressor.bound(raw.count - plain))
            compressed.append(contentsOf: raw[..<plain])
            try compressor.compress(
                UnsafeRawBufferPointer(rebasing: raw[plain...]), dictionary: dict, appendingTo: &compressed)
        }
        var header = BlockHeader(
            codec: codec, count: UInt32(events.count), firstSequence: firstSequence, minOccurred: minO,
            maxOccurred: maxO, minRecorded: recordedAt, maxRecorded: recordedAt,
            dictionaryID: head.dictionaryID, rawSize: UInt32(body.count), bodySize: UInt32(compressed.count),
            previousHash: head.lastHash, eventsRoot: root)
        header.blockHash = header.computeHash(&sha)
        var w = ByteWriter(capacity: BlockHeader.size)
        header.encode(into: &w)
        let headerBytes = w.bytes
        let key = TenantLog.blockKey(firstSequence)
        let size = headerBytes.count + compressed.count
        // MDB_APPEND: keys must grow, so an out-of-order block is refused by LMDB itself.
        try key.withUnsafeBytes { k in
            try txn.reserve(log, key: k, size: size, flags: .append) { out in
                headerBytes.withUnsafeBytes { out.copyMemory(from: $0) }
                compressed.withUnsafeBytes {
                    UnsafeMutableRawBufferPointer(rebasing: out[headerBytes.count...]).copyMemory(from: $0)
                }
            }
        }
        head.lastSequence = header.lastSequence
        head.lastHash = header.blockHash
        head.lastRecorded = header.maxRecorded
        head.blocks += 1
        head.rawBytes += UInt64(body.count)
        head.logBytes += UInt64(size)
    }

    /// Reads the first byte of each string in each event's payload, and nothing else: a
    /// commit's events were decoded a while ago, on another thread, and have left the caches;
    /// the hashing loop that follows waited for each event's payload in turn (its first load
    /// of it was a seventh of a commit's time). In a loop that does nothing else, the loads
    /// of many events are in flight at once, and hashing and encoding find them cached. No
    /// retain on the way (a binding of the string would be one): an atomic write per string
    /// would have serialised the loads again. Returns a value made from the bytes, for
    /// `keepAlive`: the loads must not be optimised away.
    @inline(never)
    static func warmUp(_ events: UnsafeBufferPointer<Event>) -> UInt8 {
        var x: UInt8 = 0
        for i in events.indices {
            for f in 0..<events[i].data.count { x &+= events[i].data[f].value.firstStringByte }
        }
        return x
    }

    /// Takes a value and does nothing with it, unoptimised, so that what computed it stays.
    @_optimize(none)
    static func keepAlive(_ value: UInt8) {}

    /// The events' hashes and their occurred-at range. Static, with the scratch buffer passed
    /// in: inside a loop over the log's own properties, every iteration paid an exclusivity
    /// check and a copy of the event.
    private static func eventHashes(
        _ events: UnsafeBufferPointer<Event>, firstSequence: UInt64, recordedAt: Timestamp, scratch: EncodingScratch
    ) -> (leaves: [Digest], min: Timestamp, max: Timestamp) {
        keepAlive(warmUp(events))
        var leaves: [Digest] = []
        leaves.reserveCapacity(events.count)
        var minO = Timestamp.max, maxO = Timestamp.min
        for i in events.indices {
            let sequence = firstSequence + UInt64(i)
            leaves.append(
                ChainHash.event(events[i], sequence: sequence, recordedAt: recordedAt, scratch: scratch))
            minO = min(minO, events[i].occurredAt)
            maxO = max(maxO, events[i].occurredAt)
        }
        return (leaves, minO, maxO)
    }

    /// Admin-side types, which still concern a deactivated user; everything else their agent or
    /// they themselves would send is refused.
    static func concernsDeactivatedUsers(_ type: EventType) -> Bool {
        switch type {
        case .userInvited, .userRoleChanged, .userDeactivated, .userReactivated, .teamMemberAdded, .teamMemberRemoved,
            .settingsChanged, .overrideApplied, .retentionPolicySet, .eventCorrected, .eventRetracted:
            true
        default:
            false
        }
    }

    private func recordDeactivations(
        from old: Set<UserID>, to new: Set<UserID>, in txn: borrowing WriteTransaction
    )
        throws
    {
        for user in new.subtracting(old) {
            var key: [UInt8] = []
            user.append(to: &key)
            try key.withUnsafeBytes { k in
                try withUnsafeBytes(of: head.lastSequence.bigEndian) { v in try txn.put(people, key: k, value: v) }
            }
        }
        for user in old.subtracting(new) {
            var key: [UInt8] = []
            user.append(to: &key)
            try key.withUnsafeBytes { k in _ = try txn.delete(people, key: k) }
        }
    }

    /// A block's key: its first sequence, big-endian, so LMDB's byte order is sequence order.
    static func blockKey(_ sequence: UInt64) -> [UInt8] { withUnsafeBytes(of: sequence.bigEndian, Array.init) }

    /// Gathers the user ids and payload strings of the tenant's latest events (at most 4,096)
    /// and has `training` make a dictionary of them in the background; a later commit adopts it.
    private func startTraining(_ txn: borrowing WriteTransaction) throws {
        var blocks: [[[UInt8]]] = []  // newest block first
        var events = 0
        var reader = BlockReader()
        try txn.withCursor(log) { cursor in
            var entry = try cursor.last()
            while let e = entry, events < 4096 {
                try decodeBlock(e.value, with: &reader)
                var pieces: [[UInt8]] = []
                for ev in reader.events {
                    if let s = ev.subject { pieces.append(s.bytes) }
                    for f in ev.data { if case .string(let s) = f.value { pieces.append(Array(s.utf8)) } }
                }
                blocks.append(pieces)
                events += reader.events.count
                entry = try cursor.previous()
            }
        }
        nextTrainingAt = .max  // until the outcome is in
        training.start(
            pieces: blocks.reversed().flatMap { $0 }, capacity: options.dictionarySize, level: options.compressionLevel)
    }

    /// After a commit: a finished training's outcome has been used (a dictionary stored), or,
    /// when training failed, the next try is set for when the tenant has grown fourfold.
    func settleTraining(_ trained: DictionaryTraining.Outcome?) {
        guard let trained else { return }
        training.clear()
        if case .failed = trained { nextTrainingAt = head.lastSequence * 4 }
    }
}
