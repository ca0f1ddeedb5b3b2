/// A batch of events on their way to the log, in their canonical form (`EventCodec`) less the
/// sequence and recorded-at a commit assigns: per event its id, type, subject and occurred-at,
/// which the commit decides by, and its tail — flags, subject, actor, duration, payload — in
/// one buffer for the whole batch.
///
/// Made where the events are made (the file ingester's parsing threads) or where they are
/// handed to the store (`LogStore.submit`), while they are in that thread's cache: the commit then
/// hashes and encodes its blocks from this contiguous buffer, instead of chasing every event's
/// payload array and strings through memory that another thread wrote a while ago (its first
/// touch of them was most of its time in encoding).
public struct EncodedEvents: Sendable, Equatable {
    private(set) var ids: [EventID] = []
    private(set) var types: [EventType] = []
    /// Each event's subject (its `user`).
    public private(set) var subjects: [UserID?] = []
    private(set) var occurred: [Int64] = []
    /// Where each event's tail starts in `tails`, and one more entry: where the last one ends.
    private(set) var starts: [Int] = [0]
    private(set) var tails: [UInt8] = []

    public init() {}

    public init(_ events: borrowing [Event]) {
        events.withUnsafeBufferPointer { e in
            guard let p = e.baseAddress, !e.isEmpty else { return }
            // Events through the pointer, and their parts rather than themselves: the buffer's
            // subscript returns a copy of its element (a retain of every string and array in
            // it), and so does passing a pointee to a function that writes memory.
            let n = e.count
            Self.keepAlive(Self.warmUp(e))
            ids = Self.column(n) { p[$0].id }
            types = Self.column(n) { p[$0].type }
            subjects = Self.column(n) { p[$0].subject }
            occurred = Self.column(n) { p[$0].occurredAt.microseconds }
            // All tails through one cursor into room sized first: no per-event array append,
            // no copy out of a scratch buffer.
            var bound = 0
            for i in 0..<n { bound += EventCodec.tailBound(actor: p[i].actor, data: p[i].data) }
            tails = [UInt8](room: bound) { c in
                starts = Self.column(n + 1) { i in
                    if i > 0 {
                        let e = p + i - 1
                        EventCodec.encodeTail(
                            subject: e.pointee.subject, actor: e.pointee.actor, duration: e.pointee.duration,
                            data: e.pointee.data, into: &c)
                    }
                    return c.count
                }
            }
        }
    }

    /// `count` values, `make(i)` the i-th, written in place instead of appended one by one.
    @inline(__always)
    private static func column<T>(_ count: Int, _ make: (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { (buffer.baseAddress! + i).initialize(to: make(i)) }
            initialized = count
        }
    }

    /// Reads the first byte of each string in each event's payload, and nothing else: events
    /// handed to the store may have been made a while ago, on another thread, and have left
    /// the caches; encoding them one by one waits for each event's payload in turn. In a loop
    /// that does nothing else, the loads of many events are in flight at once, and encoding
    /// finds them cached. No retain on the way (a binding of the string would be one): an
    /// atomic write per string would serialise the loads again. Returns a value made from the
    /// bytes, for `keepAlive`: the loads must not be optimised away.
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

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.isEmpty }

    /// Room for `events` more events of `bytes` bytes of tails in all.
    public mutating func reserve(_ events: Int, bytes: Int) {
        ids.reserveCapacity(events)
        types.reserveCapacity(events)
        subjects.reserveCapacity(events)
        occurred.reserveCapacity(events)
        starts.reserveCapacity(events + 1)
        tails.reserveCapacity(bytes)
    }

    public mutating func append(_ e: borrowing Event) {
        append(
            id: e.id, type: e.type, subject: e.subject, occurred: e.occurredAt.microseconds,
            tailBound: EventCodec.tailBound(of: e)
        ) { EventCodec.encodeTail(e, into: &$0) }
    }

    /// Appends an event whose tail `writeTail` writes, in at most `tailBound` bytes.
    mutating func append(
        id: EventID, type: EventType, subject: UserID?, occurred: Int64, tailBound: Int,
        _ writeTail: (inout ByteCursor) -> Void
    ) {
        ids.append(id)
        types.append(type)
        subjects.append(subject)
        self.occurred.append(occurred)
        var w = ByteWriter(capacity: 0)
        swap(&w.bytes, &tails)
        w.group(capacity: tailBound, writeTail)
        swap(&w.bytes, &tails)
        starts.append(tails.count)
    }

    /// Removes the last event (one that its caller refused after all).
    public mutating func removeLast() {
        ids.removeLast()
        types.removeLast()
        subjects.removeLast()
        occurred.removeLast()
        starts.removeLast()
        tails.removeLast(tails.count - starts[starts.count - 1])
    }

    /// Appends all of `other`'s events (several appends committed together).
    mutating func append(contentsOf other: EncodedEvents) { append(contentsOf: other, 0..<other.count) }

    /// Appends events `range` of `other`, column by column.
    mutating func append(contentsOf other: EncodedEvents, _ range: Range<Int>) {
        let shift = tails.count - other.starts[range.lowerBound]
        ids.append(contentsOf: other.ids[range])
        types.append(contentsOf: other.types[range])
        subjects.append(contentsOf: other.subjects[range])
        occurred.append(contentsOf: other.occurred[range])
        starts.append(contentsOf: other.starts[range.lowerBound + 1...range.upperBound].lazy.map { $0 + shift })
        tails.append(contentsOf: other.tails[other.starts[range.lowerBound]..<other.starts[range.upperBound]])
    }

    /// The events split by `group[i]` (in `0..<groups`) into one batch per group, each in
    /// the events' order: sized first, then filled.
    func partitioned(by group: [Int], into groups: Int) -> [EncodedEvents] {
        precondition(group.count == count)
        var counts = [Int](repeating: 0, count: groups)
        var bytes = [Int](repeating: 0, count: groups)
        for i in 0..<count {
            counts[group[i]] += 1
            bytes[group[i]] += starts[i + 1] - starts[i]
        }
        var members = counts.map { n -> [Int] in
            var m = [Int]()
            m.reserveCapacity(n)
            return m
        }
        for i in 0..<count { members[group[i]].append(i) }
        return (0..<groups).map { g in selecting(members[g], tailBytes: bytes[g]) }
    }

    /// The events at `indices`, in that order, whose tails take `tailBytes` in all: each
    /// column written in place, each tail copied once.
    private func selecting(_ indices: [Int], tailBytes: Int) -> EncodedEvents {
        var out = EncodedEvents()
        let n = indices.count
        guard n > 0 else { return out }
        out.ids = Self.column(n) { ids[indices[$0]] }
        out.types = Self.column(n) { types[indices[$0]] }
        out.subjects = Self.column(n) { subjects[indices[$0]] }
        out.occurred = Self.column(n) { occurred[indices[$0]] }
        tails.withUnsafeBytes { from in
            out.tails = [UInt8](room: tailBytes) { c in
                out.starts = Self.column(n + 1) { k in
                    if k > 0 {
                        let i = indices[k - 1]
                        c.raw(UnsafeRawBufferPointer(rebasing: from[starts[i]..<starts[i + 1]]))
                    }
                    return c.count
                }
            }
        }
        return out
    }

    /// The events at `indices`, in that order.
    func selecting(_ indices: [Int]) -> EncodedEvents {
        selecting(indices, tailBytes: indices.reduce(0) { $0 + starts[$1 + 1] - starts[$1] })
    }

    /// Event `i` with `sequence` and `recordedAt`, decoded (for the rules of corrections and
    /// the live projections).
    func event(_ i: Int, sequence: UInt64, recordedAt: Timestamp) -> Event {
        var strings = CachedInlineStrings()
        return event(i, sequence: sequence, recordedAt: recordedAt, strings: &strings)
    }

    /// Same, taking strings decoded before from `strings`' cache.
    func event(_ i: Int, sequence: UInt64, recordedAt: Timestamp, strings: inout CachedInlineStrings) -> Event {
        tails.withUnsafeBytes { bytes in
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[starts[i]..<starts[i + 1]]))
            do {
                return try EventCodec.decodeTail(
                    &r, type: types[i], id: ids[i], sequence: sequence, occurred: Timestamp(microseconds: occurred[i]),
                    recorded: recordedAt, strings: &strings)
            } catch {
                preconditionFailure("an encoded event decodes: \(error)")
            }
        }
    }
}

/// One event's tail read back: the fields a block stores in columns, and its payload's bytes.
struct EncodedTail {
    var flags: UInt8
    var actor: UnsafeRawBufferPointer?
    var duration: Int64?
    /// The canonical payload: field count, then key, tag and value per field, strings inline.
    var payload: UnsafeRawBufferPointer

    /// Reads a tail this process encoded (`EncodedEvents.append`): trusted bytes.
    init(_ bytes: UnsafeRawBufferPointer) {
        var r = ByteReader(bytes)
        do {
            flags = try r.u8()
            if flags & EventCodec.Flag.subject != 0 { _ = try r.bytes(16) }
            actor = flags & EventCodec.Flag.actor != 0 ? try r.bytes(try r.count()) : nil
            duration = flags & EventCodec.Flag.duration != 0 ? try r.svarint() : nil
            payload = UnsafeRawBufferPointer(rebasing: bytes[r.offset...])
        } catch {
            preconditionFailure("an encoded tail reads back: \(error)")
        }
    }
}
