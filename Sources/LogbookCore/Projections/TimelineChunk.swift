/// One user's effective events of one UTC hour, in the `timeline` database: records sorted by
/// (occurred-at, sequence), each
///
///     offset u32 (little-endian) | span varint | sequence varint | length varint | entry
///
/// where offset = occurred-at − the hour's start, span = end − occurred-at (end: occurred-at
/// plus the duration, if any), and entry is a `TimelineEntry` of `length` bytes. A query reads
/// the prefixes and decodes only the entries overlapping its range.
///
/// The prefix lets the projector append, insert, find and replace records without decoding
/// the others; most samples arrive in time order and are appended. It is small because every
/// record is written again whenever its chunk is: 9–12 bytes here instead of 28 as four fixed
/// integers, on entries of 100–150.
struct TimelineChunk {
    /// The records in order; complete once `settle()` has merged the late ones in.
    private(set) var bytes: [UInt8] = []
    /// The hour's start, microseconds since 1970: what record offsets count from.
    let base: Int64

    /// The longest prefix: 4 + 10 + 10 + 5 bytes.
    private static let maxPrefix = 29

    init(hour: Int32) { base = Int64(hour) * Projector.chunkMicros }
    init(_ bytes: UnsafeRawBufferPointer, hour: Int32) {
        self.init(hour: hour)
        self.bytes = Array(bytes)
    }

    struct Record {
        /// Where the record starts, and its entry's bytes.
        var start: Int
        var entry: Range<Int>
        var occurred: Int64
        var sequence: UInt64
        var end: Int64
    }

    /// The records, each with its sort key.
    func records() throws -> [Record] {
        var out: [Record] = []
        try scan {
            out.append($0)
            return true
        }
        return out
    }

    /// Calls `body` with each record's place and sort key, in order, until it returns false;
    /// reads only the prefixes and allocates nothing. Records inserted late must have been
    /// merged in (`settle()`).
    func scan(_ body: (Record) throws -> Bool) throws {
        precondition(late.isEmpty, "a chunk is read before its late records are merged in (settle())")
        try scanStored(body)
    }

    /// `scan` of `bytes` alone, late records or not.
    private func scanStored(_ body: (Record) throws -> Bool) throws {
        try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            var r = ByteReader(b)
            while !r.isAtEnd {
                let start = r.offset
                let offset = try r.u32()
                let span = try r.varint()
                let sequence = try r.varint()
                let length = try r.count()
                let occurred = base + Int64(offset)  // |base| < 2^63 − 2^32: a chunk number is an Int32
                // A corrupt span must not overflow the end.
                guard span <= UInt64(Int64.max), case (let end, false) = occurred.addingReportingOverflow(Int64(span))
                else { throw r.fail(.outOfRange) }
                let record = Record(
                    start: start, entry: r.offset..<(r.offset + length), occurred: occurred, sequence: sequence,
                    end: end)
                guard try body(record) else { return }
                r.offset += length
            }
        }
    }

    /// `entry`'s record, in `scratch` (valid until its next use): the entry is encoded behind
    /// room for the longest prefix, and the actual prefix is written just in front of it.
    ///
    /// Static and closure-free, so that neither the chunk nor the entry is copied meanwhile: a
    /// method called while its own bytes change holds a copy of the chunk (every change then
    /// copies all its bytes), and a closure capturing the entry copied it.
    private static func record<S: TimelineRecordSource & ~Copyable>(
        _ entry: borrowing S, base: Int64, in scratch: EncodingScratch
    ) throws -> UnsafeRawBufferPointer {
        let occurred = entry.occurredMicros
        guard occurred >= base, occurred - base <= Int64(UInt32.max) else {
            throw CodecError(code: .outOfRange, offset: 0)
        }
        let room = TimelineChunk.maxPrefix + entry.encodedBound
        let at = scratch.room(room)
        var e = ByteCursor(base: at + TimelineChunk.maxPrefix, limit: room - TimelineChunk.maxPrefix)
        entry.encode(into: &e)
        var p = ByteCursor(base: at, limit: TimelineChunk.maxPrefix)
        p.u32(UInt32(occurred - base))
        p.varint(UInt64(entry.end - occurred))
        p.varint(entry.sequence)
        p.varint(UInt64(e.count))
        let start = at + TimelineChunk.maxPrefix - p.count
        start.copyMemory(from: at, byteCount: p.count)
        return UnsafeRawBufferPointer(start: start, count: p.count + e.count)
    }

    /// The sort key of the last record, known after the first insert: appends in time order
    /// then cost no scan.
    private var tail: (Int64, UInt64)?
    private var tailKnown = false

    /// Inserts `entry` at its place in (occurred-at, sequence) order, encoding it in `scratch`;
    /// one that sorts before the last record waits aside until `settle()` puts it there.
    mutating func insert<S: TimelineRecordSource & ~Copyable>(
        _ entry: borrowing S, scratch: EncodingScratch = EncodingScratch()
    ) throws {
        let key = (entry.occurredMicros, entry.sequence)
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
            // Set aside, and merged with the others in one pass when the chunk is next read:
            // a late batch (agents' requests committed out of order) inserted each record by
            // a scan from the start and a shift of everything behind it.
            late.append(try TimelineChunk.record(entry, base: base, in: scratch), key: key)
        } else {
            // The common case, samples in time order: onto the end. A chunk starts empty and
            // gets a few records per batch; growing it from nothing took a reallocation per record.
            if bytes.capacity - bytes.count < 256 { bytes.reserveCapacity(max(1024, 2 * bytes.count)) }
            bytes.append(contentsOf: try TimelineChunk.record(entry, base: base, in: scratch))
            tail = key
        }
    }

    /// Records that sort before the last one, in the order they came, until `settle()`.
    private var late = LateRecords()

    private struct LateRecords {
        var bytes: [UInt8] = []
        var records: [(key: (Int64, UInt64), range: Range<Int>)] = []

        var isEmpty: Bool { records.isEmpty }

        mutating func append(_ record: UnsafeRawBufferPointer, key: (Int64, UInt64)) {
            let start = bytes.count
            bytes.append(contentsOf: record)
            records.append((key, start..<bytes.count))
        }
    }

    /// Merges the records inserted late into their places, in one pass over the chunk.
    mutating func settle() throws {
        guard !late.isEmpty else { return }
        let order = late.records.sorted { $0.key < $1.key }
        var merged: [UInt8] = []
        merged.reserveCapacity(bytes.count + late.bytes.count)
        var next = 0
        func takeLate(before key: (Int64, UInt64)?) {
            while next < order.count, key.map({ order[next].key < $0 }) ?? true {
                merged.append(contentsOf: late.bytes[order[next].range])
                next += 1
            }
        }
        try scanStored { r in
            takeLate(before: (r.occurred, r.sequence))
            merged.append(contentsOf: bytes[r.start..<r.entry.upperBound])
            return true
        }
        takeLate(before: nil)
        bytes = merged
        late = LateRecords()
    }

    /// The entry with `sequence`, if the chunk holds it.
    func entry(_ sequence: UInt64) throws -> TimelineEntry? {
        guard let r = try records().first(where: { $0.sequence == sequence }) else { return nil }
        return try decode(r)
    }

    /// Replaces the entry with the same sequence (occurred-at unchanged), or removes it (nil).
    mutating func replace(
        _ sequence: UInt64, with entry: TimelineEntry?, scratch: EncodingScratch = EncodingScratch()
    ) throws {
        try settle()
        guard let r = try records().first(where: { $0.sequence == sequence }) else { return }
        if let entry {
            let record = try TimelineChunk.record(entry, base: base, in: scratch)
            bytes.replaceSubrange(r.start..<r.entry.upperBound, with: record)
        } else {
            bytes.removeSubrange(r.start..<r.entry.upperBound)
        }
        tailKnown = false
    }

    func decode(_ r: Record) throws -> TimelineEntry {
        try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            try TimelineEntry(
                decoding: UnsafeRawBufferPointer(rebasing: b[r.entry]), occurred: r.occurred, sequence: r.sequence,
                end: r.end)
        }
    }

    /// The entries overlapping [from, to) (a point event at `from` counts), in order.
    func entries(overlapping from: Int64, _ to: Int64) throws -> [TimelineEntry] {
        try records().filter { $0.occurred < to && ($0.end > from || $0.occurred >= from) }.map(decode)
    }
}
