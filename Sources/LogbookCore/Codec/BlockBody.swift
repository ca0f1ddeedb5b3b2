import Foundation

/// The body of a log block before compression (format v1, specs/storage.md): the block's events
/// in columns — ids, types, flags, a table of the block's users, time deltas, durations, a table
/// of distinct strings, then payloads that point into it.
///
/// Columns put like with like, which is what zstd needs to get well under the size of the
/// events' JSON; the string table means a title repeated across a block is stored and decoded
/// once. Sequences are not stored: event `i` has the block's first sequence plus `i`.
enum BlockBody {
    static let maxEvents = 1 << 20

    /// Encodes `events` (sequences consecutive); with `recordedAt`, as if every event had that
    /// recorded-at. Through their encoded form (`EncodedEvents`), the one encoder of block
    /// bodies: commits start from that form.
    static func encode(_ events: ArraySlice<Event>, recordedAt: Timestamp? = nil) -> [UInt8] {
        let batch = EncodedEvents(Array(events))
        let recorded = events.map { (recordedAt ?? $0.recordedAt).microseconds }
        return encode(batch, 0..<batch.count, recorded: { recorded[$0] })
    }

    static func encode(_ events: [Event]) -> [UInt8] { encode(events[...]) }

    /// The users column: the block's distinct subjects in order of first appearance, then one
    /// index per event that has a subject. Written by `write(into:)` in at most `bound` bytes.
    struct Users {
        var list: [UUID128] = []
        var index: [Int] = []

        init(count n: Int, subject: (Int) -> UserID?) {
            // A block holds few distinct users: a linear search beats hashing until there are
            // many; then an open-addressing table over the ids' own random bits (a `Dictionary`
            // would run SipHash over each event's id).
            var slots: [Int32] = []  // 1 + index into `list`, 0 when empty
            index.reserveCapacity(n)
            for i in 0..<n {
                guard let s = subject(i) else { continue }
                if slots.isEmpty {
                    if let k = list.firstIndex(of: s) {
                        index.append(k)
                        continue
                    }
                } else {
                    let mask = slots.count - 1
                    var slot = Users.slot(s, mask)
                    var found: Int?
                    while slots[slot] != 0 {
                        if list[Int(slots[slot]) - 1] == s {
                            found = Int(slots[slot]) - 1
                            break
                        }
                        slot = (slot + 1) & mask
                    }
                    if let found {
                        index.append(found)
                        continue
                    }
                }
                index.append(list.count)
                list.append(s)
                if list.count > 32 && list.count * 2 > slots.count {
                    slots = Users.table(list)
                } else if !slots.isEmpty {
                    var slot = Users.slot(s, slots.count - 1)
                    while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
                    slots[slot] = Int32(list.count)
                }
            }
        }

        /// Slots for `list` at a load of at most a quarter.
        private static func table(_ list: [UUID128]) -> [Int32] {
            var size = 64
            while size < list.count * 4 { size <<= 1 }
            var slots = [Int32](repeating: 0, count: size)
            for (k, u) in list.enumerated() {
                var slot = Users.slot(u, size - 1)
                while slots[slot] != 0 { slot = (slot + 1) & (size - 1) }
                slots[slot] = Int32(k + 1)
            }
            return slots
        }

        @inline(__always)
        private static func slot(_ u: UUID128, _ mask: Int) -> Int {
            Int(truncatingIfNeeded: ((u.high ^ u.low) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        }

        var bound: Int { 10 + 16 * list.count + 10 * index.count }

        func write(into c: inout ByteCursor) {
            c.varint(UInt64(list.count))
            for u in list { c.uuid(u) }
            for i in index { c.varint(UInt64(i)) }
        }
    }

    /// The time columns, microseconds: occurred-at and recorded-at as deltas, then the
    /// durations of the events that have one. When every value of a column is a whole number
    /// of milliseconds (agents mostly send ms), it stores milliseconds; a scale byte says which
    /// columns are scaled. Room: `timesBound(count:)`.
    @inline(__always)
    static func writeTimes(
        count n: Int, occurred: (Int) -> Int64, recorded: (Int) -> Int64, duration: (Int) -> Int64?,
        into c: inout ByteCursor
    ) {
        let msOccurred = (0..<n).allSatisfy { occurred($0) % 1000 == 0 }
        let msRecorded = (0..<n).allSatisfy { recorded($0) % 1000 == 0 }
        let msDuration = (0..<n).allSatisfy { (duration($0) ?? 0) % 1000 == 0 }
        c.u8((msOccurred ? 1 : 0) | (msRecorded ? 2 : 0) | (msDuration ? 4 : 0))
        writeDeltas(count: n, occurred, scale: msOccurred ? 1000 : 1, into: &c)
        writeDeltas(count: n, recorded, scale: msRecorded ? 1000 : 1, into: &c)
        for i in 0..<n { if let d = duration(i) { c.svarint(d / (msDuration ? 1000 : 1)) } }
    }

    /// The most bytes `writeTimes` writes for `n` events: the scale byte and three varints each.
    static func timesBound(count n: Int) -> Int { 1 + 30 * n }

    @inline(__always)
    private static func writeDeltas(count n: Int, _ column: (Int) -> Int64, scale: Int64, into c: inout ByteCursor) {
        var previous: Int64 = 0
        for i in 0..<n {
            let v = column(i) / scale
            c.svarint(v &- previous)
            previous = v
        }
    }

    /// Where the id column of a body ends: after the event count and 16 bytes per event. Stored
    /// blocks keep these bytes out of zstd (`BlockHeader.Codec.zstdAfterIDs`).
    static func idColumnEnd(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> Int {
        var r = ByteReader(bytes)
        let n = try r.count(unit: 16)
        return r.offset + 16 * n
    }

    /// `idColumnEnd` of a body this process just encoded.
    static func idColumnEnd(ofEncoded bytes: UnsafeRawBufferPointer) -> Int {
        do { return try idColumnEnd(bytes) } catch { preconditionFailure("an encoded body has its id column") }
    }

    /// Decodes a body into `events` (replacing what they held), assigning sequences from
    /// `firstSequence`. Throws on any inconsistency, leaving `events` empty.
    ///
    /// The events already in `events` are overwritten in place rather than removed and made
    /// anew: their payload arrays are reused where nothing else holds them, which saves an
    /// allocation and a free per event when a reader decodes block after block into one array.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, firstSequence: UInt64, into events: inout [Event]
    )
        throws(CodecError)
    {
        var cache = StringCache()
        try decode(bytes, firstSequence: firstSequence, into: &events, strings: &cache)
    }

    /// Same, taking strings seen in earlier blocks from `cache`.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, firstSequence: UInt64, into events: inout [Event],
        strings cache: inout StringCache
    )
        throws(CodecError)
    {
        do {
            try decodeInPlace(bytes, firstSequence: firstSequence, into: &events, cache: &cache)
        } catch {
            events.removeAll()
            throw error
        }
    }

    private static func decodeInPlace(
        _ bytes: UnsafeRawBufferPointer, firstSequence: UInt64, into events: inout [Event], cache: inout StringCache
    )
        throws(CodecError)
    {
        var r = ByteReader(bytes)
        let n = try r.count(unit: 20)
        if events.count > n { events.removeLast(events.count - n) }
        events.reserveCapacity(n)
        let ids = try r.bytes(16 * n)
        let types = try r.bytes(n)
        let flags = try r.bytes(n)
        for i in 0..<n where flags[i] & ~EventCodec.Flag.known != 0 {
            throw CodecError(code: .unknownTag, offset: flags.baseAddress! - bytes.baseAddress! + i)
        }
        let userCount = try r.count(unit: 16)
        let userBytes = try r.bytes(16 * userCount)

        // Build the events column by column, in the order the columns are stored. Every field
        // of a reused event is set below, except `data`, which only the payloads' pass sets.
        for i in 0..<n {
            guard let type = EventType(rawValue: types[i]) else {
                throw CodecError(code: .unknownTag, offset: types.baseAddress! - bytes.baseAddress! + i)
            }
            let (sequence, id) = (firstSequence &+ UInt64(i), UUID128(bytes: ids, at: 16 * i))
            if i < events.count {
                events[i].sequence = sequence
                events[i].id = id
                events[i].type = type
                events[i].subject = nil
                events[i].actor = nil
                events[i].duration = nil
            } else {
                events.append(
                    Event(
                        sequence: sequence, id: id, type: type, subject: nil, occurredAt: Timestamp(microseconds: 0),
                        data: []))
            }
        }
        for i in 0..<n where flags[i] & EventCodec.Flag.subject != 0 {
            let index = try r.varint()
            guard index < UInt64(userCount) else { throw r.fail(.outOfRange) }
            events[i].subject = UUID128(bytes: userBytes, at: 16 * Int(index))
        }
        var actorTable = try TableStrings.readTable(&r, cache: &cache)
        for i in 0..<n where flags[i] & EventCodec.Flag.actor != 0 {
            events[i].actor = try actorTable.decode(&r)
        }
        let scales = try r.u8()
        guard scales & ~7 == 0 else { throw r.fail(.unknownTag) }
        let (occurredScale, recordedScale, durationScale): (Int64, Int64, Int64) =
            (scales & 1 != 0 ? 1000 : 1, scales & 2 != 0 ? 1000 : 1, scales & 4 != 0 ? 1000 : 1)
        var previous: Int64 = 0
        for i in 0..<n {
            previous = previous &+ (try r.svarint())
            events[i].occurredAt = Timestamp(microseconds: try scaled(previous, occurredScale, &r))
        }
        previous = 0
        for i in 0..<n {
            previous = previous &+ (try r.svarint())
            events[i].recordedAt = Timestamp(microseconds: try scaled(previous, recordedScale, &r))
        }
        for i in 0..<n where flags[i] & EventCodec.Flag.duration != 0 {
            events[i].duration = try scaled(try r.svarint(), durationScale, &r)
        }
        var strings = try TableStrings.readTable(&r, cache: &cache)
        for i in 0..<n {
            try EventCodec.decodePayload(&r, strings: &strings, into: &events[i].data)
        }
        guard r.isAtEnd else { throw r.fail(.trailingBytes) }
    }
}

/// `value × scale`, or a typed error when corrupt input would overflow.
private func scaled(_ value: Int64, _ scale: Int64, _ r: inout ByteReader) throws(CodecError) -> Int64 {
    let (product, overflow) = value.multipliedReportingOverflow(by: scale)
    if overflow { throw r.fail(.outOfRange) }
    return product
}

/// A block's table of distinct strings, read back (`TableBytes` writes it): payloads and
/// actors refer to its entries by index.
struct TableStrings: StringCoding {
    private(set) var table: [String] = []

    static func equal(_ a: String, _ b: UnsafeRawBufferPointer) -> Bool {
        a.withUTF8Bytes { x in
            x.count == b.count && (x.isEmpty || memcmp(x.baseAddress!, b.baseAddress!, x.count) == 0)
        }
    }

    private static let seed = UInt64.random(in: 0...UInt64.max)

    /// A multiply-xorshift hash over 8-byte words; fast for the short strings of events. Seeded
    /// per process: a block holds at most a few thousand strings, so crafted collisions can
    /// only slow one block down.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = seed ^ UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        // The last bytes in at most two loads, overlapping what came before (the length is in
        // the seed, so overlapping words still tell strings apart): no loop over the bytes.
        let n = bytes.count
        var tail: UInt64 = 0
        if i < n {
            if n >= 8 {
                tail = bytes.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            } else if n >= 4 {
                tail =
                    UInt64(bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
                    | UInt64(bytes.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << 32
            } else {
                tail = UInt64(bytes[0]) | UInt64(bytes[n / 2]) << 8 | UInt64(bytes[n - 1]) << 16
            }
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    mutating func decode(_ r: inout ByteReader) throws(CodecError) -> String {
        let i = try r.varint()
        guard i < UInt64(table.count) else { throw r.fail(.outOfRange) }
        return table[Int(i)]
    }

    static func readTable(_ r: inout ByteReader, cache: inout StringCache) throws(CodecError) -> TableStrings {
        let n = try r.count()
        var t = TableStrings()
        t.table.reserveCapacity(n)
        for _ in 0..<n {
            let length = try r.count()
            guard let s = cache.string(try r.bytes(length)) else { throw r.fail(.invalidText) }
            t.table.append(s)
        }
        return t
    }
}
