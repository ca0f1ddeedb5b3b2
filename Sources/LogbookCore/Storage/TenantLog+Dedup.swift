import Foundation
import LogbookLMDB
import LogbookZstd

/// The idempotency index (specs/storage.md, "Deduplication").
///
/// Event ids are random, so a B-tree keyed by id would rewrite pages all over the index on
/// every commit — and LMDB's copy-on-write would keep as many freed pages again on disk. The
/// index is instead a short list of sorted *runs*, each a single LMDB value written once:
/// key = the first sequence the run covers (u64 big-endian); value = sorted 8-byte entries,
/// big-endian `prefix << 24 | offset`: 40 bits of a mix of the id (`dedupPrefix`) and the event's offset from the
/// run's first sequence (24 bits, so a run spans fewer than 2^24 sequences). Each commit adds
/// one run for its new events; runs are merged so that each is at least four times the size of
/// the next newer one, keeping O(log n) runs. A lookup binary-searches every run; a prefix match
/// is confirmed by reading the stored event, so a collision of the 40-bit prefix (about n/2^40
/// per lookup) costs one block read, never a lost event or a wrong answer.
extension TenantLog {
    struct DedupRun: Equatable {
        var first: UInt64
        var count: Int
    }

    static let dedupEntrySize = 8
    /// A run spans fewer sequences than this, so offsets fit in 24 bits.
    static let maxRunSpan: UInt64 = 1 << 24

    /// 40 bits of a mix of the whole id. Not the id's leading bits: time-ordered ids (UUIDv7,
    /// ULID-like) share those for long stretches, and every shared prefix costs a block read
    /// per lookup. Both halves go through SplitMix64's finaliser (a bijection), so ids that
    /// differ anywhere spread over the prefixes. Stable across processes: it is stored.
    @inline(__always)
    static func dedupPrefix(_ id: EventID) -> UInt64 {
        var z = id.high ^ (id.low &* dedupMix)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) >> 24
    }

    static let dedupMix: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Loads the list of runs (keys and sizes only).
    static func loadRuns<T: Transaction & ~Copyable>(_ db: Database, in txn: borrowing T) throws -> [DedupRun] {
        var runs: [DedupRun] = []
        try txn.withCursor(db) { cursor in
            var entry = try cursor.first()
            while let e = entry {
                guard e.key.count == 8, e.value.count % dedupEntrySize == 0 else {
                    throw LogError(.corrupt, "the dedup index holds a malformed run")
                }
                runs.append(
                    DedupRun(
                        first: UInt64(bigEndian: e.key.loadUnaligned(as: UInt64.self)),
                        count: e.value.count / dedupEntrySize))
                entry = try cursor.next()
            }
        }
        return runs
    }

    /// The run entries of a batch's ids, sorted: `dedupPrefix(id) << 24 | i` for the id at
    /// index `i`. Lookups walk the runs in this order; when every event of the batch is new,
    /// the same keys are its new run.
    static func sortedIDKeys(_ ids: [EventID]) -> [UInt64] {
        sortedIDKeys(ids.count) { ids[$0] }
    }

    static func sortedIDKeys(_ count: Int, id: (Int) -> EventID) -> [UInt64] {
        precondition(UInt64(count) < TenantLog.maxRunSpan, "a commit larger than a dedup run can span")
        var keys = [UInt64](repeating: 0, count: count)
        for i in 0..<count { keys[i] = TenantLog.dedupPrefix(id(i)) << 24 | UInt64(i) }
        sortByPrefix(&keys)
        return keys
    }

    /// Sorts keys made in index order (`prefix << 24 | index`) as whole numbers: by the 40-bit
    /// prefix, least significant byte first, in five stable counting passes — keys of one
    /// prefix keep their index order, which is the order of their low 24 bits. The prefixes
    /// are random: a comparison sort mispredicts about every other branch, and took over a
    /// third of the commit's deduplication.
    static func sortByPrefix(_ keys: inout [UInt64]) {
        let n = keys.count
        guard n > 64 else { return keys.sort() }
        var counts = [Int](repeating: 0, count: 5 * 256)
        var other = [UInt64](repeating: 0, count: n)
        keys.withUnsafeMutableBufferPointer { a in
            other.withUnsafeMutableBufferPointer { b in
                counts.withUnsafeMutableBufferPointer { c in
                    for k in a {
                        for pass in 0..<5 { c[pass * 256 + Int(truncatingIfNeeded: k >> (24 + 8 * pass)) & 255] += 1 }
                    }
                    var (from, to) = (a, b)
                    for pass in 0..<5 {
                        let shift = UInt64(24 + 8 * pass)
                        let base = pass * 256
                        var total = 0
                        for d in 0..<256 {
                            let c0 = c[base + d]
                            c[base + d] = total
                            total += c0
                        }
                        for k in from {
                            let d = base + Int(truncatingIfNeeded: k >> shift) & 255
                            to[c[d]] = k
                            c[d] += 1
                        }
                        swap(&from, &to)
                    }
                }
            }
        }
        swap(&keys, &other)  // an odd number of passes ends in `other`
    }

    /// Adds a batch's ids as a new run starting at sequence `first`, then merges runs. `keys`
    /// are `sortedIDKeys` of the events stored, in sequence order.
    func recordIDs(
        _ keys: [UInt64], firstSequence first: UInt64, runs: inout [DedupRun], in txn: borrowing WriteTransaction
    )
        throws
    {
        guard !keys.isEmpty else { return }
        var entries = [UInt8](repeating: 0, count: keys.count * TenantLog.dedupEntrySize)
        entries.withUnsafeMutableBytes { out in
            for (slot, key) in keys.enumerated() {
                out.storeBytes(of: key.bigEndian, toByteOffset: slot * 8, as: UInt64.self)
            }
        }
        try putRun(first: first, entries, in: txn)
        runs.append(DedupRun(first: first, count: keys.count))
        while runs.count >= 2 {
            let older = runs[runs.count - 2], newer = runs[runs.count - 1]
            guard newer.count * 4 >= older.count,
                newer.first - older.first + UInt64(newer.count) < TenantLog.maxRunSpan
            else { break }
            try merge(older, newer, in: txn)
            runs.removeLast(2)
            runs.append(DedupRun(first: older.first, count: older.count + newer.count))
        }
    }

    private func putRun(first: UInt64, _ entries: [UInt8], in txn: borrowing WriteTransaction) throws {
        try withUnsafeBytes(of: first.bigEndian) { k in
            try txn.reserve(dedup, key: k, size: entries.count) { out in
                entries.withUnsafeBytes { out.copyMemory(from: $0) }
            }
        }
    }

    /// Replaces two adjacent runs by one sorted run keyed by the older one's first sequence.
    private func merge(_ older: DedupRun, _ newer: DedupRun, in txn: borrowing WriteTransaction) throws {
        let shift = newer.first - older.first
        let merged: [UInt8] = try withRun(older, in: txn) { a in
            try withRun(newer, in: txn) { b in
                var out = [UInt8](repeating: 0, count: a.count + b.count)
                out.withUnsafeMutableBytes { o in
                    var (i, j, k) = (0, 0, 0)
                    func key(_ r: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
                        UInt64(bigEndian: r.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                    }
                    // The newer run's offsets grow by the distance between the runs' first
                    // sequences; the span check before merging keeps them within 24 bits.
                    while i < a.count || j < b.count {
                        let x = i < a.count ? key(a, i) : .max
                        let y = j < b.count ? key(b, j) &+ shift : .max
                        if i < a.count && (j >= b.count || x <= y) {
                            o.storeBytes(of: x.bigEndian, toByteOffset: k, as: UInt64.self)
                            i += 8
                        } else {
                            o.storeBytes(of: y.bigEndian, toByteOffset: k, as: UInt64.self)
                            j += 8
                        }
                        k += 8
                    }
                }
                return out
            }
        }
        try withUnsafeBytes(of: newer.first.bigEndian) { k in _ = try txn.delete(dedup, key: k) }
        try putRun(first: older.first, merged, in: txn)
    }

    private func withRun<T: Transaction & ~Copyable, R>(
        _ run: DedupRun, in txn: borrowing T, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        try withUnsafeBytes(of: run.first.bigEndian) { k in
            try txn.get(dedup, key: k) { v in
                guard let v, v.count == run.count * TenantLog.dedupEntrySize else {
                    throw LogError(.corrupt, "dedup run \(run.first) of tenant \(tenant) is missing or malformed")
                }
                return try body(v)
            }
        }
    }

    /// For each of `count` ids, the sequence of the stored event with that id, if any.
    func lookupDuplicates<T: Transaction & ~Copyable>(
        _ count: Int, id: (Int) -> EventID, runs: [DedupRun], in txn: borrowing T
    ) throws -> [UInt64?] {
        try lookupDuplicates(sortedKeys: TenantLog.sortedIDKeys(count, id: id), id: id, runs: runs, in: txn)
    }

    /// For each id of a batch, given as its `sortedIDKeys`, the sequence of the stored event
    /// with that id, if any.
    ///
    /// One LMDB lookup per run for the whole batch, then one forward walk through the run's
    /// mapped bytes: each key's lower bound is searched from the previous one's, galloping,
    /// so a run is read in order once instead of binary-searched from the start per id.
    /// Prefix matches are confirmed by reading the event, newest run first: retries are
    /// usually of recent events.
    func lookupDuplicates<T: Transaction & ~Copyable>(
        sortedKeys keys: [UInt64], id: (Int) -> EventID, runs: [DedupRun], in txn: borrowing T
    ) throws -> [UInt64?] {
        var found = [UInt64?](repeating: nil, count: keys.count)
        guard !runs.isEmpty, !keys.isEmpty else { return found }
        var candidates: [(index: Int, sequence: UInt64)] = []
        for run in runs.reversed() {
            try withRun(run, in: txn) { v in
                func entry(_ at: Int) -> UInt64 {
                    UInt64(bigEndian: v.loadUnaligned(fromByteOffset: at * 8, as: UInt64.self))
                }
                var lo = 0  // every entry before it sorts before the current prefix
                for key in keys {
                    let prefix = key >> 24
                    let probe = prefix << 24
                    var hi = lo
                    var step = 1
                    while hi < run.count && entry(hi) < probe {
                        lo = hi + 1
                        hi += step
                        step *= 2
                    }
                    hi = min(hi, run.count)
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if entry(mid) < probe { lo = mid + 1 } else { hi = mid }
                    }
                    var at = lo  // `lo` stays: the next key may have the same prefix
                    while at < run.count {
                        let e = entry(at)
                        guard e >> 24 == prefix else { break }
                        candidates.append((Int(key & 0xFF_FFFF), run.first + (e & 0xFF_FFFF)))
                        at += 1
                    }
                }
            }
        }
        for c in candidates where found[c.index] == nil {
            if try event(at: c.sequence, in: txn)?.id == id(c.index) { found[c.index] = c.sequence }
        }
        return found
    }

    /// The event with `sequence`, read inside `txn`.
    func event<T: Transaction & ~Copyable>(at sequence: UInt64, in txn: borrowing T) throws -> Event? {
        var reader = BlockReader()
        let key = TenantLog.blockKey(sequence)
        let found = try txn.withCursor(log) { cursor -> Bool in
            try key.withUnsafeBytes { kb in
                var entry = try cursor.seek(atLeast: kb)
                if entry == nil || entry!.key.elementsEqual(kb) == false {
                    entry = try entry == nil ? cursor.last() : cursor.previous()
                }
                guard let e = entry else { return false }
                try decodeBlock(e.value, with: &reader)
                return true
            }
        }
        let events = reader.events
        guard found, let first = events.first, sequence >= first.sequence, sequence - first.sequence < events.count
        else { return nil }
        return events[Int(sequence - first.sequence)]
    }
}
