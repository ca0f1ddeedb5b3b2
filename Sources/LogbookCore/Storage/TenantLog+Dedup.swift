import LogbookLMDB
import LogbookZstd

/// The idempotency index (specs/storage.md, "Deduplication").
///
/// `dedup` is a DUPSORT|DUPFIXED database: key = the id's first byte (256 buckets); each value
/// is 12 bytes, the id's next 7 bytes then the sequence (5 bytes, big-endian). DUPFIXED values
/// are packed without per-entry headers, so an event costs ~12 bytes of leaf plus page slack
/// instead of ~40 for a plain 16→8 byte entry. 64 of the id's 128 bits select candidates; a
/// candidate is confirmed by reading the stored event, so a prefix collision never loses an
/// event or answers with the wrong sequence. Entries live as long as the events: duplicates are
/// detected for the tenant's whole retained history, not just a window.
extension TenantLog {
    static let maxSequence: UInt64 = 1 << 40 - 1

    private static func bucket(_ id: EventID) -> [UInt8] { [id.byte(0)] }

    private static func entry(_ id: EventID, sequence: UInt64) -> [UInt8] {
        var v = [UInt8](repeating: 0, count: 12)
        for i in 0..<7 { v[i] = id.byte(i + 1) }
        for i in 0..<5 { v[7 + i] = UInt8(truncatingIfNeeded: sequence >> (8 * (4 - i))) }
        return v
    }

    func recordID(_ id: EventID, sequence: UInt64, in txn: borrowing WriteTransaction) throws {
        precondition(sequence <= TenantLog.maxSequence, "sequence beyond the dedup index's 40 bits")
        let k = TenantLog.bucket(id)
        let v = TenantLog.entry(id, sequence: sequence)
        try k.withUnsafeBytes { kb in try v.withUnsafeBytes { vb in try txn.put(dedup, key: kb, value: vb) } }
    }

    /// The sequence of the stored event with `id`, if any.
    func lookupDuplicate<T: Transaction & ~Copyable>(_ id: EventID, in txn: borrowing T) throws -> UInt64? {
        let k = TenantLog.bucket(id)
        let probe = TenantLog.entry(id, sequence: 0)
        var candidates: [UInt64] = []
        try txn.withCursor(dedup) { cursor in
            try k.withUnsafeBytes { kb in
                try probe.withUnsafeBytes { pb in
                    var entry = try cursor.seek(key: kb, valueAtLeast: pb)
                    while let e = entry, e.value.count == 12, memcmp(e.value.baseAddress!, pb.baseAddress!, 7) == 0 {
                        var seq: UInt64 = 0
                        for i in 7..<12 { seq = seq << 8 | UInt64(e.value[i]) }
                        candidates.append(seq)
                        entry = try cursor.nextDuplicate()
                    }
                }
            }
        }
        for seq in candidates where try event(at: seq, in: txn)?.id == id { return seq }
        return nil
    }

    /// The event with `sequence`, read inside `txn`.
    func event<T: Transaction & ~Copyable>(at sequence: UInt64, in txn: borrowing T) throws -> Event? {
        var decompressor = ZstdDecompressor()
        var raw: [UInt8] = []
        var events: [Event] = []
        let key = TenantLog.blockKey(sequence)
        let found = try txn.withCursor(log) { cursor -> Bool in
            try key.withUnsafeBytes { kb in
                var entry = try cursor.seek(atLeast: kb)
                if entry == nil || entry!.key.elementsEqual(kb) == false { entry = try entry == nil ? cursor.last() : cursor.previous() }
                guard let e = entry else { return false }
                try decodeBlock(e.value, decompressor: &decompressor, raw: &raw, into: &events)
                return true
            }
        }
        guard found, let first = events.first, sequence >= first.sequence, sequence - first.sequence < events.count
        else { return nil }
        return events[Int(sequence - first.sequence)]
    }
}

import Foundation
