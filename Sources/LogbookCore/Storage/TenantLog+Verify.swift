import LogbookCrypto
import LogbookLMDB
import LogbookZstd

/// The result of walking one tenant's chain.
public struct VerifyReport: Sendable {
    public var tenant: TenantID
    public var blocks: Int = 0
    public var events: Int = 0
    /// The first block that failed, nil when the whole chain verified.
    public var failure: Failure?

    public struct Failure: Sendable, CustomStringConvertible {
        /// The key (first sequence) of the bad block; for a broken head, the last good sequence.
        public var blockFirstSequence: UInt64
        public var reason: String
        public var description: String { "block \(blockFirstSequence): \(reason)" }
    }

    public var ok: Bool { failure == nil }
}

extension TenantLog {
    /// Walks every block from the first: keys, sequences, chain links, header hashes, the body's
    /// decoding and the Merkle root of its events; then the chain head. Stops at the first fault.
    func verify(progress: (Int, Int) -> Void = { _, _ in }) throws -> VerifyReport {
        var report = VerifyReport(tenant: tenant)
        var expectedSequence: UInt64 = 1
        var previous = ChainHash.genesis(tenant)
        var reader = BlockReader()
        var sha = SHA256()
        let scratch = EncodingScratch()
        var startKey = TenantLog.blockKey(1)
        var done = false
        func fail(_ seq: UInt64, _ reason: String) {
            report.failure = .init(blockFirstSequence: seq, reason: reason)
            done = true
        }
        while !done {
            // A few hundred blocks per read transaction, so a long verify pins no pages for long.
            try env.read { txn in
                try txn.withCursor(log) { cursor in
                    try startKey.withUnsafeBytes { kb in
                        var entry = try cursor.seek(atLeast: kb)
                        var n = 0
                        while let e = entry, n < 256, !done {
                            n += 1
                            let keySeq = e.key.count == 8 ? UInt64(bigEndian: e.key.loadUnaligned(as: UInt64.self)) : 0
                            // The next block's pages load while this one is checked.
                            let following = try cursor.next()
                            if let following { prefetch(following.value) }
                            let header: BlockHeader
                            do { header = try BlockHeader(decoding: e.value) } catch {
                                return fail(keySeq, "header does not decode (\(error))")
                            }
                            guard header.firstSequence == keySeq else {
                                return fail(keySeq, "header says first sequence \(header.firstSequence)")
                            }
                            guard keySeq == expectedSequence else {
                                return fail(keySeq, "expected a block starting at \(expectedSequence)")
                            }
                            guard header.previousHash == previous else {
                                return fail(keySeq, "does not link to the previous block's hash")
                            }
                            guard header.computeHash(&sha) == header.blockHash else {
                                return fail(keySeq, "header hash does not match its content")
                            }
                            do {
                                try decodeBody(header, e.value, with: &reader)
                            } catch {
                                return fail(keySeq, "body does not decode (\(error))")
                            }
                            var leaves: [Digest] = []
                            leaves.reserveCapacity(reader.events.count)
                            for ev in reader.events { leaves.append(ChainHash.event(ev, scratch: scratch)) }
                            guard ChainHash.merkleRoot(leaves, version: header.version) == header.eventsRoot else {
                                return fail(keySeq, "events do not match the block's Merkle root")
                            }
                            previous = header.blockHash
                            expectedSequence = header.lastSequence + 1
                            report.blocks += 1
                            report.events += reader.events.count
                            progress(report.blocks, report.events)
                            entry = following
                        }
                        if entry == nil { done = true } else if !done { startKey = Array(entry!.key) }
                    }
                }
            }
        }
        if report.failure == nil {
            let stored = try env.read { txn in
                try TenantLog.headKey.withUnsafeBytes { k in
                    try txn.get(meta, key: k) { v in try v.map { try ChainHead(decoding: $0) } }
                }
            }
            let lastGood = expectedSequence - 1
            if let stored, stored.lastSequence != lastGood || stored.lastHash != previous {
                report.failure = .init(
                    blockFirstSequence: lastGood,
                    reason: "chain head records sequence \(stored.lastSequence); the blocks end at \(lastGood)")
            }
        }
        return report
    }
}
