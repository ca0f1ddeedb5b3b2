import Foundation

extension BlockBody {
    /// Encodes events `range` of `batch` as if they had `recordedAt` (a commit's case).
    static func encode(_ batch: EncodedEvents, _ range: Range<Int>, recordedAt: Timestamp) -> [UInt8] {
        encode(batch, range, recorded: { _ in recordedAt.microseconds })
    }

    /// Encodes events `range` of `batch`, the `i`th of them with recorded-at `recorded(i)`
    /// (microseconds), from their canonical tails.
    ///
    /// The whole body goes through one cursor into one buffer sized first; only the actor and
    /// payload columns are written to the side before it, because the tables they point into
    /// (which come first) are complete only once they are written.
    static func encode(_ batch: EncodedEvents, _ range: Range<Int>, recorded: (Int) -> Int64) -> [UInt8] {
        batch.tails.withUnsafeBytes { tailBytes in
            let n = range.count
            let tails = range.map {
                EncodedTail(UnsafeRawBufferPointer(rebasing: tailBytes[batch.starts[$0]..<batch.starts[$0 + 1]]))
            }
            let users = Users(count: n, subject: { batch.subjects[range.lowerBound + $0] })
            var actors = TableBytes(entries: 0)
            let actorColumn = [UInt8](room: 10 * n) { c in
                for t in tails { if let a = t.actor { actors.encode(a, into: &c) } }
            }
            // Transcoded, a payload takes at most 7/3 of its canonical size: only string
            // fields change, from at least 3 bytes (key, tag, length) to at most 7 (key, tag,
            // an index of at most 5 bytes: a block's table holds fewer than 2^35 strings).
            let payloadBytes = tails.reduce(0) { $0 + $1.payload.count }
            // Room for two strings an event (an activity's app and title): no rehash in the
            // common case.
            var strings = TableBytes(entries: 2 * n)
            let payloadColumn = [UInt8](room: 3 * payloadBytes) { c in
                for t in tails {
                    var r = ByteReader(t.payload)
                    do {
                        try transcodePayload(&r, into: &c, strings: &strings)
                    } catch {
                        preconditionFailure("an encoded payload reads back: \(error)")
                    }
                }
            }
            let room =
                10 + 18 * n + users.bound + actors.tableBound + actorColumn.count + timesBound(count: n)
                + strings.tableBound + payloadColumn.count
            return [UInt8](room: room) { c in
                c.varint(UInt64(n))
                for i in range { c.uuid(batch.ids[i]) }
                for i in range { c.u8(batch.types[i].rawValue) }
                for t in tails { c.u8(t.flags) }
                users.write(into: &c)
                actors.writeTable(into: &c)
                actorColumn.withUnsafeBytes { c.raw($0) }
                writeTimes(
                    count: n, occurred: { batch.occurred[range.lowerBound + $0] }, recorded: recorded,
                    duration: { tails[$0].duration }, into: &c)
                strings.writeTable(into: &c)
                payloadColumn.withUnsafeBytes { c.raw($0) }
            }
        }
    }

    /// Copies a canonical payload, its strings replaced by indexes into `strings`.
    private static func transcodePayload(
        _ r: inout ByteReader, into c: inout ByteCursor, strings: inout TableBytes
    ) throws(CodecError) {
        let n = try r.varint()
        c.varint(n)
        for _ in 0..<n {
            c.u8(try r.u8())  // key
            let tag = try r.u8()
            c.u8(tag)
            switch tag {
            case EventCodec.Tag.int, EventCodec.Tag.time: c.svarint(try r.svarint())
            case EventCodec.Tag.double: c.u64(try r.u64())
            case EventCodec.Tag.string: strings.encode(try r.bytes(try r.count()), into: &c)
            case EventCodec.Tag.uuid: c.raw(try r.bytes(16))
            case EventCodec.Tag.fields: try transcodePayload(&r, into: &c, strings: &strings)
            default: break  // null, false, true: the tag is the value
            }
        }
    }
}

/// Strings as indexes into a table of the distinct strings of one block (read back as
/// `TableStrings`).
///
/// The entries point into the bytes being encoded (the batch's tails), which outlive the
/// table: nothing is copied until the table is written. They are found by a fast hash of the
/// UTF-8 bytes (`TableStrings.hash`, `HashSlots`): `Dictionary` with `String` keys normalises
/// Unicode and runs SipHash, which cost more than everything else in encoding a block.
struct TableBytes {
    private var entries: [UnsafeRawBufferPointer] = []
    private var index: HashSlots
    /// The entries' bytes in all.
    private var entryBytes = 0

    var count: Int { entries.count }

    /// A table with room for `entries` entries before it grows.
    init(entries: Int) {
        index = HashSlots(capacity: entries)
        self.entries.reserveCapacity(entries)
    }

    /// Writes the index of `s` in the table, adding it first if new. `s` must stay valid until
    /// the table is written.
    mutating func encode(_ s: UnsafeRawBufferPointer, into c: inout ByteCursor) {
        let h = TableStrings.hash(s)
        let (found, slot) = index.find(h) { TableBytes.equal(entries[$0], s) }
        if let found { return c.varint(UInt64(found)) }
        entries.append(s)
        entryBytes += s.count
        c.varint(UInt64(index.insert(h, at: slot)))
    }

    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// The table: its entry count, then each entry's length and bytes. Room: `tableBound`.
    func writeTable(into c: inout ByteCursor) {
        c.varint(UInt64(count))
        for e in entries {
            c.varint(UInt64(e.count))
            c.raw(e)
        }
    }

    var tableBound: Int { 10 + 10 * count + entryBytes }
}
