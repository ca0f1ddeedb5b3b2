/// One user's effective events of one UTC hour, in the `timeline` database: records sorted by
/// (occurred-at, sequence), each
///
///     occurred-at i64 | sequence u64 | end i64 | length u32 (little-endian) | entry (`TimelineEntry`)
///
/// (end = occurred-at + duration), so that a query decodes only the entries overlapping its
/// range; the entry keeps the rest of what the timeline shows.
///
/// The fixed prefix lets the projector append, insert, find and replace records without
/// decoding the others; most samples arrive in time order and are appended.
struct TimelineChunk {
    var bytes: [UInt8] = []

    static let prefix = 28

    init() {}
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = Array(bytes) }

    typealias Record = (offset: Int, occurred: Int64, sequence: UInt64, end: Int64, length: Int)

    /// Offsets of the records, each with its sort key.
    func records() throws -> [Record] {
        var out: [Record] = []
        try scan {
            out.append($0); return true
        }
        return out
    }

    /// Calls `body` with each record's offset and sort key, in order, until it returns false;
    /// reads only the fixed prefixes and allocates nothing.
    func scan(_ body: (Record) throws -> Bool) throws {
        try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            var at = 0
            while at < b.count {
                guard b.count - at >= TimelineChunk.prefix else { throw CodecError(code: .truncated, offset: at) }
                let occurred = Int64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int64.self))
                let sequence = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self))
                let end = Int64(littleEndian: b.loadUnaligned(fromByteOffset: at + 16, as: Int64.self))
                let length = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at + 24, as: UInt32.self)))
                guard b.count - at - TimelineChunk.prefix >= length else {
                    throw CodecError(code: .truncated, offset: at)
                }
                guard try body((at, occurred, sequence, end, length)) else { return }
                at += TimelineChunk.prefix + length
            }
        }
    }

    /// Appends `entry`'s record to `w`: the fixed prefix (its length patched afterwards), then
    /// the entry, written in place.
    private static func appendRecord(_ entry: TimelineEntry, to w: inout ByteWriter) {
        let start = w.bytes.count
        let occurred = entry.occurredAt.microseconds
        // A tuple of these types is laid out without padding: 8 + 8 + 8 + 4 bytes.
        withUnsafeBytes(of: (occurred.littleEndian, entry.sequence.littleEndian, entry.end.littleEndian, UInt32(0))) {
            w.raw(UnsafeRawBufferPointer(rebasing: $0[0..<prefix]))
        }
        entry.encode(into: &w)
        let length = UInt32(w.bytes.count - start - prefix)
        w.bytes.withUnsafeMutableBytes { b in
            b.storeBytes(of: length.littleEndian, toByteOffset: start + 24, as: UInt32.self)
        }
    }

    private static func record(_ entry: TimelineEntry) -> [UInt8] {
        var w = ByteWriter(capacity: 192)
        appendRecord(entry, to: &w)
        return w.bytes
    }

    /// The sort key of the last record, known after the first insert: appends in time order
    /// then cost no scan.
    private var tail: (Int64, UInt64)?
    private var tailKnown = false

    /// Inserts `entry` at its place in (occurred-at, sequence) order.
    mutating func insert(_ entry: TimelineEntry) throws {
        let key = (entry.occurredAt.microseconds, entry.sequence)
        if !tailKnown {
            // Once per chunk loaded: a live turn loads each chunk it touches.
            var last: (Int64, UInt64)?
            try scan { r in
                last = (r.occurred, r.sequence)
                return true
            }
            tail = last
            tailKnown = true
        }
        if let last = tail, key < last {
            let end = bytes.count
            var at = end
            try scan { r in
                if (r.occurred, r.sequence) > key { at = r.offset }
                return at == end
            }
            bytes.insert(contentsOf: TimelineChunk.record(entry), at: at)
        } else {
            // The common case, samples in time order: encode straight onto the end.
            var w = ByteWriter(capacity: 0)
            swap(&w.bytes, &bytes)
            TimelineChunk.appendRecord(entry, to: &w)
            swap(&w.bytes, &bytes)
            tail = key
        }
    }

    /// The entry with `sequence`, if the chunk holds it.
    func entry(_ sequence: UInt64) throws -> TimelineEntry? {
        guard let r = try records().first(where: { $0.sequence == sequence }) else { return nil }
        return try decode(r)
    }

    /// Replaces the entry with the same sequence (occurred-at unchanged), or removes it (nil).
    mutating func replace(_ sequence: UInt64, with entry: TimelineEntry?) throws {
        guard let r = try records().first(where: { $0.sequence == sequence }) else { return }
        let range = r.offset..<(r.offset + TimelineChunk.prefix + r.length)
        bytes.replaceSubrange(range, with: entry.map(TimelineChunk.record) ?? [])
        tailKnown = false
    }

    func decode(_ r: Record) throws -> TimelineEntry {
        try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            let start = r.offset + TimelineChunk.prefix
            return try TimelineEntry(
                decoding: UnsafeRawBufferPointer(rebasing: b[start..<(start + r.length)]),
                occurred: r.occurred, sequence: r.sequence, end: r.end)
        }
    }

    /// The entries overlapping [from, to) (a point event at `from` counts), in order.
    func entries(overlapping from: Int64, _ to: Int64) throws -> [TimelineEntry] {
        try records().filter { $0.occurred < to && ($0.end > from || $0.occurred >= from) }.map(decode)
    }
}
