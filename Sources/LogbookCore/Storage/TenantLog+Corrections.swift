import LogbookLMDB

/// The rules a correction (`event.corrected`) or retraction (`event.retracted`) must meet when
/// it is appended, and the index that enforces them (db `corrections`, specs/storage.md).
///
/// Every correction and retraction belongs to a *chain* whose root is the original event:
/// naming a correction (or a retraction) as the target means its root, so corrections never
/// stack on each other and projections apply them to the one original. The index keeps
/// key = sequence (u64 big-endian) → value = kind byte + root sequence (u64 big-endian) + the
/// root's occurred-at (i64 big-endian, so projections find it without reading the log):
/// `link` for each stored correction/retraction, `retracted` for each retracted original.
extension TenantLog {
    enum CorrectionKind: UInt8 {
        case link = 1
        case retracted = 2
    }

    /// Correction state written by the batch being committed, seen by its later events.
    struct CorrectionEntry {
        var kind: CorrectionKind
        var root: UInt64
        /// The root's occurred-at, in microseconds.
        var occurred: Int64
    }

    struct CorrectionOverlay {
        var entries: [UInt64: CorrectionEntry] = [:]
    }

    /// Where a batch's new events are, so that an id repeated within the batch is answered
    /// as a duplicate and a correction may target an event of its own batch.
    struct BatchView {
        /// Sequence of the first new event of the batch.
        var first: UInt64
        /// Indexes (into the batch's events) of the new events so far, in sequence order.
        var fresh: [Int] = []
        /// The batch's ids, and their `sortedIDKeys`: ids of the batch with a given prefix
        /// are found by a binary search, without a table of the batch's ids.
        let ids: [EventID]
        let keys: [UInt64]

        init(first: UInt64, ids: [EventID], keys: [UInt64]) {
            self.first = first
            self.ids = ids
            self.keys = keys
            fresh.reserveCapacity(ids.count)
        }

        /// The indexes of events whose id's prefix another event of the batch shares: the
        /// only ones that can repeat an id of the batch. Usually none.
        func sharingPrefix() -> Set<Int> {
            var out = Set<Int>()
            for k in keys.indices.dropFirst() where keys[k] >> 24 == keys[k - 1] >> 24 {
                out.insert(Int(keys[k - 1] & 0xFF_FFFF))
                out.insert(Int(keys[k] & 0xFF_FFFF))
            }
            return out
        }

        /// The sequence the batch gave the new event with `id`, if one has it so far.
        func sequence(of id: EventID) -> UInt64? {
            let prefix = TenantLog.dedupPrefix(id)
            var (lo, hi) = (0, keys.count)
            while lo < hi {
                let mid = (lo + hi) / 2
                if keys[mid] >> 24 < prefix { lo = mid + 1 } else { hi = mid }
            }
            while lo < keys.count && keys[lo] >> 24 == prefix {
                let j = Int(keys[lo] & 0xFF_FFFF)
                if ids[j] == id, let position = position(of: j) { return first + UInt64(position) }
                lo += 1
            }
            return nil
        }

        /// Where event `j` of the batch is among the new events, if it is one.
        private func position(of j: Int) -> Int? {
            var (lo, hi) = (0, fresh.count)
            while lo < hi {
                let mid = (lo + hi) / 2
                if fresh[mid] < j { lo = mid + 1 } else { hi = mid }
            }
            return lo < fresh.count && fresh[lo] == j ? lo : nil
        }
    }

    /// The root (the original) a correction or retraction applies to, or why it is refused.
    func checkCorrection(
        _ batchEvent: (Int) -> Event, _ i: Int, batch: BatchView, overlay: CorrectionOverlay,
        in txn: borrowing WriteTransaction
    ) throws -> Result<(root: UInt64, occurred: Int64), AppendOutcome.Refusal> {
        let e = batchEvent(i)
        // The validator guarantees a target of one of these two forms.
        var target: UInt64?
        switch e[.target] {
        case .uuid(let id):
            target = batch.sequence(of: id)
            if target == nil {
                target = try lookupDuplicates(1, id: { _ in id }, runs: dedupRuns, in: txn)[0]
            }
        case .int(let n) where n >= 1 && UInt64(n) < batch.first + UInt64(batch.fresh.count):
            target = UInt64(n)
        default:
            target = nil
        }
        guard let target else {
            return .failure(.init(.correctionTargetNotFound, field: "data.target", "no event of this tenant has it"))
        }
        let root =
            try correctionEntry(target, overlay: overlay, in: txn).map { $0.kind == .link ? $0.root : target }
            ?? target
        if try correctionEntry(root, overlay: overlay, in: txn)?.kind == .retracted {
            return .failure(.init(.correctionTargetRetracted, field: "data.target", "the event was retracted"))
        }
        let original: Event?
        if root >= batch.first {
            original = batchEvent(batch.fresh[Int(root - batch.first)])
        } else {
            original = try event(at: root, in: txn)
        }
        guard let original else {
            return .failure(.init(.correctionTargetNotFound, field: "data.target", "no event of this tenant has it"))
        }
        guard original.subject != nil, original.subject == e.subject else {
            return .failure(
                .init(.correctionSubjectMismatch, field: "data.target", "the event concerns another user"))
        }
        if e.type == .eventCorrected, case .fields(let set)? = e[.set] {
            let allowed = Catalogue.spec(original.type).fields
            for f in set where !allowed.contains(where: { $0.key == f.key }) {
                return .failure(
                    .init(
                        .correctionFieldNotInType, field: "data.set.\(f.key.name)",
                        "\(original.type.name) has no such field"))
            }
        }
        return .success((root, original.occurredAt.microseconds))
    }

    private func correctionEntry(
        _ sequence: UInt64, overlay: CorrectionOverlay, in txn: borrowing WriteTransaction
    ) throws -> CorrectionEntry? {
        if let e = overlay.entries[sequence] { return e }
        return try TenantLog.readCorrection(sequence, db: corrections, in: txn)
    }

    static func readCorrection<T: Transaction & ~Copyable>(
        _ sequence: UInt64, db: Database, in txn: borrowing T
    ) throws -> CorrectionEntry? {
        try withUnsafeBytes(of: sequence.bigEndian) { k in
            try txn.get(db, key: k) { v -> CorrectionEntry? in
                guard let v else { return nil }
                guard v.count == 17, let kind = CorrectionKind(rawValue: v[0]) else {
                    throw LogError(.corrupt, "the corrections index holds a malformed entry")
                }
                return CorrectionEntry(
                    kind: kind, root: UInt64(bigEndian: v.loadUnaligned(fromByteOffset: 1, as: UInt64.self)),
                    occurred: Int64(bigEndian: v.loadUnaligned(fromByteOffset: 9, as: Int64.self)))
            }
        }
    }

    func writeCorrections(_ overlay: CorrectionOverlay, in txn: borrowing WriteTransaction) throws {
        for (sequence, entry) in overlay.entries {
            var value = [entry.kind.rawValue]
            withUnsafeBytes(of: entry.root.bigEndian) { value.append(contentsOf: $0) }
            withUnsafeBytes(of: entry.occurred.bigEndian) { value.append(contentsOf: $0) }
            try withUnsafeBytes(of: sequence.bigEndian) { k in
                try value.withUnsafeBytes { v in try txn.put(corrections, key: k, value: v) }
            }
        }
    }
}
