import LogbookCrypto
import LogbookLMDB
import LogbookZstd

extension TenantLog {
    /// Commits a batch in one durable write transaction: duplicates are answered with the
    /// original sequence, the rest get the next sequences, blocks are appended and chained,
    /// and the dedup index and chain head are updated. Runs on a commit worker thread.
    ///
    /// All or nothing: when it throws, nothing was written and the in-memory head is unchanged.
    ///
    /// The new events, still encoded, are kept for the live projections afterwards.
    @available(*, noasync)
    func commit(_ encoded: consuming EncodedEvents) throws(LogError) -> [AppendOutcome] {
        var newHead = head
        var newRuns = dedupRuns
        var newDeactivated = deactivated
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(encoded.count)
        var recordedAt = Timestamp(microseconds: 0)
        var committed = EncodedEvents()
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
                let ids = encoded.ids
                let keys = TenantLog.sortedIDKeys(ids)
                let stored = try lookupDuplicates(sortedKeys: keys, id: { ids[$0] }, runs: newRuns, in: txn)
                let now = max(options.clock(), newHead.lastRecorded)
                recordedAt = now
                // The new events keep the batch unless some are not stored; sequences and
                // recorded-at are passed alongside.
                var batch = BatchView(first: newHead.lastSequence + 1, ids: ids, keys: keys)
                let repeatable = batch.sharingPrefix()
                var overlay = CorrectionOverlay()
                for i in 0..<encoded.count {
                    let id = ids[i]
                    let earlier = repeatable.isEmpty || !repeatable.contains(i) ? nil : batch.sequence(of: id)
                    if let duplicate = earlier ?? stored[i] {
                        outcomes.append(.duplicate(sequence: duplicate))
                        continue
                    }
                    let type = encoded.types[i]
                    let subject = encoded.subjects[i]
                    if let user = subject, !newDeactivated.isEmpty, newDeactivated.contains(user),
                        !TenantLog.concernsDeactivatedUsers(type)
                    {
                        outcomes.append(.refused(.userDeactivated))
                        continue
                    }
                    let sequence = batch.first + UInt64(batch.fresh.count)
                    if type == .eventCorrected || type == .eventRetracted {
                        // Rare: these few are decoded to check their rules.
                        let event = { (j: Int) in encoded.event(j, sequence: 0, recordedAt: now) }
                        switch try checkCorrection(event, i, batch: batch, overlay: overlay, in: txn) {
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
                    if let user = subject {
                        if type == .userDeactivated {
                            newDeactivated.insert(user)
                        } else if type == .userReactivated {
                            newDeactivated.remove(user)
                        }
                    }
                    batch.fresh.append(i)
                    outcomes.append(.appended(sequence: sequence))
                }
                let allFresh = batch.fresh.count == encoded.count
                let fresh = allFresh ? encoded : encoded.selecting(batch.fresh)
                committed = fresh
                let first = newHead.lastSequence + 1
                var start = 0
                while start < fresh.count {
                    let end = min(start + options.maxBlockEvents, fresh.count)
                    try writeBlock(
                        fresh, start..<end, firstSequence: first + UInt64(start), recordedAt: now, txn: txn,
                        head: &newHead)
                    start = end
                }
                // All new (the usual case): the batch's sorted keys are already the new run's.
                let freshKeys = allFresh ? keys : TenantLog.sortedIDKeys(fresh.ids)
                try recordIDs(freshKeys, firstSequence: first, runs: &newRuns, in: txn)
                try writeCorrections(overlay, in: txn)
                if newHead.lastSequence >= nextTrainingAt {
                    try startTraining(txn, recent: fresh, first: first)
                }
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
            let first = head.lastSequence + 1 - UInt64(committed.count)
            rememberCommitted(committed, first: first, recordedAt: recordedAt)
        }
        return outcomes
    }

    /// Encodes, hashes, compresses and appends one block of events `range` of `batch`.
    private func writeBlock(
        _ batch: borrowing EncodedEvents, _ range: Range<Int>, firstSequence: UInt64, recordedAt: Timestamp,
        txn: borrowing WriteTransaction, head: inout ChainHead
    ) throws {
        let leaves = TenantLog.eventHashes(
            batch, range, firstSequence: firstSequence, recordedAt: recordedAt, scratch: scratch)
        let occurred = batch.occurred[range]
        let (minO, maxO) = (
            Timestamp(microseconds: occurred.min()!), Timestamp(microseconds: occurred.max()!)
        )
        let version = options.blockFormatVersion
        let root = ChainHash.merkleRoot(leaves, version: version)
        let body = BlockBody.encode(batch, range, recordedAt: recordedAt)
        let dict = try dictionary(head.dictionaryID)
        // The id column goes as it is, the rest through zstd (`Codec.zstdAfterIDs`).
        let codec = options.blockCodec
        let compressed = try body.withUnsafeBytes { raw in
            let plain = codec == .zstdAfterIDs ? BlockBody.idColumnEnd(ofEncoded: raw) : 0
            // Room for the frame's worst case, not filled first.
            return try [UInt8](unsafeUninitializedCapacity: plain + ZstdCompressor.bound(raw.count - plain)) {
                buffer, count in
                let out = UnsafeMutableRawBufferPointer(buffer)
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[..<plain]))
                count =
                    try plain
                    + compressor.compress(
                        UnsafeRawBufferPointer(rebasing: raw[plain...]), dictionary: dict,
                        into: UnsafeMutableRawBufferPointer(rebasing: out[plain...]))
            }
        }
        var header = BlockHeader(
            codec: codec, count: UInt32(range.count), firstSequence: firstSequence, minOccurred: minO,
            maxOccurred: maxO, minRecorded: recordedAt, maxRecorded: recordedAt,
            dictionaryID: head.dictionaryID, rawSize: UInt32(body.count), bodySize: UInt32(compressed.count),
            previousHash: head.lastHash, eventsRoot: root)
        header.version = version
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

    /// The hashes of events `range` of `batch`. Static, with the scratch buffer passed in:
    /// inside a loop over the log's own properties, every iteration paid an exclusivity check.
    private static func eventHashes(
        _ batch: borrowing EncodedEvents, _ range: Range<Int>, firstSequence: UInt64, recordedAt: Timestamp,
        scratch: EncodingScratch
    ) -> [Digest] {
        var leaves: [Digest] = []
        leaves.reserveCapacity(range.count)
        batch.tails.withUnsafeBytes { tails in
            for i in range {
                let tail = UnsafeRawBufferPointer(rebasing: tails[batch.starts[i]..<batch.starts[i + 1]])
                leaves.append(
                    ChainHash.event(
                        batch, i, tail: tail, sequence: firstSequence + UInt64(i - range.lowerBound),
                        recordedAt: recordedAt, scratch: scratch))
            }
        }
        return leaves
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
    private func startTraining(
        _ txn: borrowing WriteTransaction, recent: borrowing EncodedEvents, first: UInt64
    ) throws {
        var blocks: [DictionaryTraining.Pieces] = []  // newest block first
        var events = 0
        // This commit's blocks (cut as `commit` cuts them), newest first, from the events in
        // hand: reading back what was just written cost a decompression and a decode of each.
        var end = recent.count
        while end > 0 && events < TenantLog.trainingEvents {
            let start = (end - 1) / options.maxBlockEvents * options.maxBlockEvents
            var pieces = DictionaryTraining.Pieces()
            recent.appendTrainingPieces(start..<end, to: &pieces)
            blocks.append(pieces)
            events += end - start
            end = start
        }
        // Then the blocks before them, from the log.
        var reader = BlockReader()
        try txn.withCursor(log) { cursor in
            var entry = try cursor.last()
            if !recent.isEmpty {
                _ = try TenantLog.blockKey(first).withUnsafeBytes { try cursor.seek(atLeast: $0) }
                entry = try cursor.previous()
            }
            while let e = entry, events < TenantLog.trainingEvents {
                try decodeBlock(e.value, with: &reader)
                var pieces = DictionaryTraining.Pieces()
                reader.events.withUnsafeBufferPointer { block in
                    for ev in block.indices { pieces.append(piecesOf: block[ev]) }
                }
                blocks.append(pieces)
                events += reader.events.count
                entry = try cursor.previous()
            }
        }
        var pieces = DictionaryTraining.Pieces()
        for block in blocks.reversed() { pieces.append(contentsOf: block) }
        nextTrainingAt = .max  // until the outcome is in
        training.start(pieces: pieces, capacity: options.dictionarySize, level: options.compressionLevel)
    }

    /// Events a training gathers strings from (whole blocks, newest first, until this many).
    static let trainingEvents = 4096

    /// After a commit: a finished training's outcome has been used (a dictionary stored), or,
    /// when training failed, the next try is set for when the tenant has grown fourfold.
    func settleTraining(_ trained: DictionaryTraining.Outcome?) {
        guard let trained else { return }
        training.clear()
        if case .failed = trained { nextTrainingAt = head.lastSequence * 4 }
    }
}
