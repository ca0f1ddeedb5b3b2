/// One effective event in a user's timeline: what the timeline, the daily figures and the
/// corrections need of the event — with every correction of its chain applied — plus the
/// category its sample got and the ids of the corrections.
///
/// Not the whole event: the user is the chunk's key, and actor and recorded-at are shown by
/// the log and the audit trail, not by the timeline. Each entry is written again whenever its
/// chunk is, so what it leaves out is bytes a live turn and a rebuild do not copy and store.
struct TimelineEntry: Equatable, TimelineRecordSource {
    var sequence: UInt64
    var id: EventID
    var type: EventType
    var occurredAt: Timestamp
    /// Microseconds, for types that have a duration.
    var duration: Int64?
    /// Payload fields in catalogue order, corrections applied.
    var data: [Field]
    /// For activity samples: the category under the rules in effect when it was applied.
    var category: String?
    /// Ids of the `event.corrected` events applied, in log order.
    var corrections: [EventID] = []

    init(event e: Event, category: String?) {
        sequence = e.sequence
        id = e.id
        type = e.type
        occurredAt = e.occurredAt
        duration = e.duration
        data = e.data
        self.category = category
    }

    /// The value of payload field `key`, if present.
    subscript(key: FieldKey) -> Value? {
        data.value(of: key)
    }

    /// Where the entry ends: occurred-at plus its duration (none counts as 0).
    var end: Int64 { occurredAt.microseconds + max(0, duration ?? 0) }

    var occurredMicros: Int64 { occurredAt.microseconds }

    func count(into day: inout DailyAggregate, bounds: Range<Int64>) { day.add(self, bounds: bounds) }

    // MARK: Encoding (format 2, specs/projections.md)

    private enum Flag {
        /// Has a duration: `end` - occurred-at, from the record's prefix.
        static let duration: UInt8 = 1
        /// Has a negative duration, written out (the prefix's end cannot say it).
        static let negativeDuration: UInt8 = 2
        static let category: UInt8 = 4
        static let corrections: UInt8 = 8
        static let known: UInt8 = 15
    }

    /// Writes what the chunk record's prefix (occurred-at, sequence, end) does not hold:
    ///
    ///     type u8 | flags u8 | id (16 B) | [duration svarint] | payload | [category] | [corrections]
    ///
    /// into room of at least `encodedBound` bytes.
    func encode(into c: inout ByteCursor) {
        TimelineEntry.encodeHead(
            type: type, id: id, duration: duration, category: category != nil, corrections: !corrections.isEmpty,
            into: &c)
        EventCodec.encodePayload(data, into: &c)
        TimelineEntry.encodeTrailer(category: category, corrections: corrections, into: &c)
    }

    /// The layout's part before the payload. Static, for `EncodedSample`, which writes the same
    /// record from a committed event's bytes.
    static func encodeHead(
        type: EventType, id: EventID, duration: Int64?, category: Bool, corrections: Bool, into c: inout ByteCursor
    ) {
        var flags: UInt8 = 0
        if let d = duration { flags |= d >= 0 ? Flag.duration : Flag.negativeDuration }
        if category { flags |= Flag.category }
        if corrections { flags |= Flag.corrections }
        c.u8(type.rawValue)
        c.u8(flags)
        c.uuid(id)
        if let d = duration, d < 0 { c.svarint(d) }
    }

    /// The layout's part after the payload.
    static func encodeTrailer(category: String?, corrections: [EventID], into c: inout ByteCursor) {
        if let category { c.string(category) }
        if !corrections.isEmpty {
            c.varint(UInt64(corrections.count))
            for id in corrections { c.uuid(id) }
        }
    }

    /// The most bytes `encode` writes.
    var encodedBound: Int {
        TimelineEntry.bound(payload: EventCodec.payloadBound(data), category: category, corrections: corrections.count)
    }

    /// The most bytes the layout takes with a payload of at most `payload` bytes.
    static func bound(payload: Int, category: String?, corrections: Int) -> Int {
        2 + 16 + 10 + payload + (category.map(ByteCursor.bound(of:)) ?? 0) + 10 + 16 * corrections
    }

    /// Decodes an entry written by `encode`, with the record prefix's values.
    init(decoding b: UnsafeRawBufferPointer, occurred: Int64, sequence: UInt64, end: Int64) throws(CodecError) {
        var r = ByteReader(b)
        type = try EventCodec.decodeType(&r)
        let flags = try r.u8()
        guard flags & ~Flag.known == 0 else { throw r.fail(.unknownTag) }
        id = try r.uuid()
        self.sequence = sequence
        occurredAt = Timestamp(microseconds: occurred)
        if flags & Flag.negativeDuration != 0 {
            duration = try r.svarint()
        } else if flags & Flag.duration != 0 {
            guard end >= occurred else { throw r.fail(.outOfRange) }
            duration = end - occurred
        } else {
            duration = nil
        }
        var strings = InlineStrings()
        data = try EventCodec.decodePayload(&r, strings: &strings)
        category = flags & Flag.category != 0 ? try r.string() : nil
        if flags & Flag.corrections != 0 {
            let n = try r.count(unit: 16)
            corrections.reserveCapacity(n)
            for _ in 0..<n { corrections.append(try r.uuid()) }
        }
        guard r.isAtEnd else { throw r.fail(.trailingBytes) }
    }
}

/// What a timeline record is written from: a decoded entry, or an activity sample's bytes as a
/// commit left them (`EncodedSample`); both give the same record, and count the same into a day.
protocol TimelineRecordSource: ~Copyable {
    var sequence: UInt64 { get }
    var occurredMicros: Int64 { get }
    var duration: Int64? { get }
    /// Occurred-at plus the duration (none or negative counts as 0).
    var end: Int64 { get }
    var encodedBound: Int { get }
    /// Writes the record's entry (`TimelineEntry.encode`'s layout) into room of `encodedBound`.
    func encode(into c: inout ByteCursor)
    /// Adds its part of a day (UTC bounds `bounds`) to `day`'s figures.
    func count(into day: inout DailyAggregate, bounds: Range<Int64>)
}
