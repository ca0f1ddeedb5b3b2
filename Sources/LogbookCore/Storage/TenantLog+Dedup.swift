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

    /// The 12-byte value, big-endian: id bytes 1...7, then the sequence's low 5 bytes.
    /// Built in registers and lent as bytes: this runs for every appended event.
    private static func withEntry<R>(
        _ id: EventID, sequence: UInt64, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        var key = id.byte(0)
        var value = ((id.high << 8 | sequence >> 32 & 0xFF).bigEndian, UInt32(truncatingIfNeeded: sequence).bigEndian)
        return try withUnsafeBytes(of: &key) { k in
            try withUnsafeBytes(of: &value) { v in try body(k, UnsafeRawBufferPointer(rebasing: v[0..<12])) }
        }
    }

    func recordID(_ id: EventID, sequence: UInt64, in txn: borrowing WriteTransaction) throws {
        precondition(sequence <= TenantLog.maxSequence, "sequence beyond the dedup index's 40 bits")
        try TenantLog.withEntry(id, sequence: sequence) { k, v in try txn.put(dedup, key: k, value: v) }
    }

    /// The sequence of the stored event with `id`, if any.
    func lookupDuplicate<T: Transaction & ~Copyable>(_ id: EventID, in txn: borrowing T) throws -> UInt64? {
        var candidates: [UInt64] = []
        try txn.withCursor(dedup) { cursor in
            try TenantLog.withEntry(id, sequence: 0) { kb, pb in
                var entry = try cursor.seek(key: kb, valueAtLeast: pb)
                while let e = entry, e.value.count == 12, memcmp(e.value.baseAddress!, pb.baseAddress!, 7) == 0 {
                    var seq: UInt64 = 0
                    for i in 7..<12 { seq = seq << 8 | UInt64(e.value[i]) }
                    candidates.append(seq)
                    entry = try cursor.nextDuplicate()
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
