/// The canonical binary form of one event (format v1, specs/storage.md): what an event's hash
/// covers. Blocks store events in a columnar layout (`BlockBody`) that decodes to the same events.
public enum EventCodec {
    public static let version: UInt8 = 1

    enum Flag {
        static let subject: UInt8 = 1
        static let actor: UInt8 = 2
        static let duration: UInt8 = 4
        static let known: UInt8 = 7
    }

    enum Tag {
        static let null: UInt8 = 0
        static let `false`: UInt8 = 1
        static let `true`: UInt8 = 2
        static let int: UInt8 = 3
        static let double: UInt8 = 4
        static let string: UInt8 = 5
        static let uuid: UInt8 = 6
        static let time: UInt8 = 7
        static let fields: UInt8 = 8
    }

    static func flags(of e: borrowing Event) -> UInt8 {
        flags(subject: e.subject != nil, actor: e.actor != nil, duration: e.duration != nil)
    }

    static func flags(subject: Bool, actor: Bool, duration: Bool) -> UInt8 {
        (subject ? Flag.subject : 0) | (actor ? Flag.actor : 0) | (duration ? Flag.duration : 0)
    }

    /// Encodes `event` canonically.
    public static func encode(_ event: Event) -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        encode(event, into: &w)
        return w.bytes
    }

    static func encode(_ e: Event, into w: inout ByteWriter) {
        w.group(capacity: bound(of: e)) { encode(e, into: &$0) }
    }

    /// Same, into room of at least `bound(of: e)` bytes.
    @inline(__always)  // see ChainHash.event
    static func encode(_ e: borrowing Event, into c: inout ByteCursor) {
        encodeHead(
            type: e.type, id: e.id, sequence: e.sequence, occurred: e.occurredAt.microseconds,
            recorded: e.recordedAt.microseconds, into: &c)
        encodeTail(e, into: &c)
    }

    /// The canonical form's head: version, type, id, sequence, occurred-at, recorded-at.
    /// Room: `headBound`.
    @inline(__always)
    static func encodeHead(
        type: EventType, id: EventID, sequence: UInt64, occurred: Int64, recorded: Int64, into c: inout ByteCursor
    ) {
        c.u8(version)
        c.u8(type.rawValue)
        c.uuid(id)
        c.varint(sequence)
        c.svarint(occurred)
        c.svarint(recorded)
    }

    /// The most bytes a head takes: version, type, id and three varints.
    static let headBound = 1 + 1 + 16 + 3 * 10

    /// The part of the canonical form that follows recorded-at — flags, subject, actor,
    /// duration, payload — which neither the log's sequence nor its clock changes
    /// (`EncodedEvents` keeps it from before the commit). Room: `bound(of: e)`.
    @inline(__always)
    static func encodeTail(_ e: borrowing Event, into c: inout ByteCursor) {
        encodeTail(subject: e.subject, actor: e.actor, duration: e.duration, data: e.data, into: &c)
    }

    /// Same, from an event's parts: `EncodedEvents` reads them from events in place, where
    /// passing the whole event would copy it first (the writes through the cursor could,
    /// for all the compiler knows, change memory it reads through a pointer).
    @inline(__always)
    static func encodeTail(subject: UserID?, actor: String?, duration: Int64?, data: [Field], into c: inout ByteCursor)
    {
        c.u8(flags(subject: subject != nil, actor: actor != nil, duration: duration != nil))
        if let s = subject { c.uuid(s) }
        if let a = actor { c.string(a) }
        if let d = duration { c.svarint(d) }
        encodePayload(data, into: &c)
    }

    /// The most bytes the canonical encoding of `e` takes: its head and its tail.
    @inline(__always)
    static func bound(of e: borrowing Event) -> Int { headBound + tailBound(of: e) }

    /// The most bytes `encodeTail` writes for `e`: flags and subject (17), the actor, the
    /// duration (10) and the payload.
    @inline(__always)
    static func tailBound(of e: borrowing Event) -> Int { tailBound(actor: e.actor, data: e.data) }

    @inline(__always)
    static func tailBound(actor: String?, data: [Field]) -> Int {
        17 + (actor.map(ByteCursor.bound(of:)) ?? 0) + 10 + payloadBound(data)
    }

    /// Decodes one canonically encoded event.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> Event {
        var r = ByteReader(bytes)
        guard try r.u8() == version else { throw CodecError(code: .unknownVersion, offset: 0) }
        let type = try decodeType(&r)
        let id = try r.uuid()
        let seq = try r.varint()
        let occurred = try r.svarint()
        let recorded = try r.svarint()
        return try decodeTail(
            &r, type: type, id: id, sequence: seq, occurred: Timestamp(microseconds: occurred),
            recorded: Timestamp(microseconds: recorded))
    }

    /// Decodes what follows recorded-at (`encodeTail`), through to the end of `r`.
    static func decodeTail(
        _ r: inout ByteReader, type: EventType, id: EventID, sequence: UInt64, occurred: Timestamp,
        recorded: Timestamp
    ) throws(CodecError) -> Event {
        var strings = InlineStrings()
        return try decodeTail(
            &r, type: type, id: id, sequence: sequence, occurred: occurred, recorded: recorded, strings: &strings)
    }

    /// Same, its strings (the actor, the payload's) through `strings`.
    static func decodeTail<S: StringCoding>(
        _ r: inout ByteReader, type: EventType, id: EventID, sequence: UInt64, occurred: Timestamp,
        recorded: Timestamp, strings: inout S
    ) throws(CodecError) -> Event {
        let flags = try r.u8()
        guard flags & ~Flag.known == 0 else { throw r.fail(.unknownTag) }
        let subject = flags & Flag.subject != 0 ? try r.uuid() : nil
        let actor = flags & Flag.actor != 0 ? try strings.decode(&r) : nil
        let duration = flags & Flag.duration != 0 ? try r.svarint() : nil
        let data = try decodePayload(&r, strings: &strings)
        guard r.isAtEnd else { throw r.fail(.trailingBytes) }
        return Event(
            sequence: sequence, id: id, type: type, subject: subject, actor: actor, occurredAt: occurred,
            recordedAt: recorded, duration: duration, data: data)
    }

    static func decodeType(_ r: inout ByteReader) throws(CodecError) -> EventType {
        guard let t = EventType(rawValue: try r.u8()) else { throw CodecError(code: .unknownTag, offset: r.offset - 1) }
        return t
    }

    // MARK: Payload (shared with BlockBody, which reads strings from a per-block table)

    /// Writes a payload, its strings inline, into room of at least `payloadBound(fields)`
    /// bytes: the canonical form, timeline entries, audit records (a block's body copies it
    /// with its strings as table indexes, `BlockBody`). Through a cursor, not a `ByteWriter`:
    /// appending to an array costs more than a small field's bytes.
    static func encodePayload(_ fields: [Field], into c: inout ByteCursor) {
        c.varint(UInt64(fields.count))
        // In place: `for f in fields` would copy (retain and release) every field.
        fields.withUnsafeBufferPointer { f in
            for i in f.indices {
                c.u8(f[i].key.rawValue)
                switch f[i].value {
                case .null: c.u8(Tag.null)
                case .bool(let b): c.u8(b ? Tag.true : Tag.false)
                case .int(let v): c.u8(Tag.int); c.svarint(v)
                case .double(let d): c.u8(Tag.double); c.u64(d.bitPattern)
                case .string(let s): c.u8(Tag.string); c.string(s)
                case .uuid(let u): c.u8(Tag.uuid); c.uuid(u)
                case .time(let t): c.u8(Tag.time); c.svarint(t.microseconds)
                case .fields(let fs): c.u8(Tag.fields); encodePayload(fs, into: &c)
                }
            }
        }
    }

    /// The most bytes `encodePayload` writes.
    static func payloadBound(_ fields: [Field]) -> Int {
        var n = 10
        fields.withUnsafeBufferPointer { f in
            for i in f.indices {
                n += 2  // key and tag
                switch f[i].value {
                case .null, .bool: break
                case .int, .time: n += 10
                case .double: n += 8
                case .string(let s): n += ByteCursor.bound(of: s)
                case .uuid: n += 16
                case .fields(let fs): n += payloadBound(fs)
                }
            }
        }
        return n
    }

    static func decodePayload<S: StringCoding>(
        _ r: inout ByteReader, strings: inout S, depth: Int = 0
    )
        throws(CodecError) -> [Field]
    {
        var fields: [Field] = []
        try decodePayload(&r, strings: &strings, depth: depth, into: &fields)
        return fields
    }

    /// Decodes a payload into `fields`, replacing what they held. Their buffer is reused when
    /// nothing else holds it: decoding block after block into the same events then allocates
    /// no new field arrays.
    static func decodePayload<S: StringCoding>(
        _ r: inout ByteReader, strings: inout S, depth: Int = 0, into fields: inout [Field]
    )
        throws(CodecError)
    {
        let n = try r.count(unit: 2)
        // Fields are overwritten in place and the surplus dropped after: `removeAll(keepingCapacity:)`
        // first went through the generic `replaceSubrange`, a tenth of decoding a payload.
        var count = 0
        defer { if fields.count > count { fields.removeLast(fields.count - count) } }
        if fields.capacity < n { fields.reserveCapacity(n) }
        for _ in 0..<n {
            guard let key = FieldKey(rawValue: try r.u8()) else {
                throw CodecError(code: .unknownTag, offset: r.offset - 1)
            }
            let tag = try r.u8()
            let value: Value
            switch tag {
            case Tag.null: value = .null
            case Tag.false: value = .bool(false)
            case Tag.true: value = .bool(true)
            case Tag.int: value = .int(try r.svarint())
            case Tag.double: value = .double(Double(bitPattern: try r.u64()))
            case Tag.string: value = .string(try strings.decode(&r))
            case Tag.uuid: value = .uuid(try r.uuid())
            case Tag.time: value = .time(Timestamp(microseconds: try r.svarint()))
            case Tag.fields:
                // Only one level: a correction's replacement set. Deeper nesting is corruption.
                guard depth == 0 else { throw CodecError(code: .unknownTag, offset: r.offset - 1) }
                value = .fields(try decodePayload(&r, strings: &strings, depth: 1))
            default: throw CodecError(code: .unknownTag, offset: r.offset - 1)
            }
            if count < fields.count {
                fields[count] = Field(key, value)
            } else {
                fields.append(Field(key, value))
            }
            count += 1
        }
    }
}

extension EventCodec {
    /// Calls `body` with the key and the bytes of each string value at the top level of a
    /// canonical payload this process encoded (trusted bytes), in order; other values, and
    /// those nested in `fields`, are stepped over.
    static func forEachTopLevelString(
        in payload: UnsafeRawBufferPointer, _ body: (_ key: UInt8, UnsafeRawBufferPointer) -> Void
    ) {
        var r = ByteReader(payload)
        do {
            for _ in 0..<(try r.count(unit: 2)) {
                let key = try r.u8()
                try skipValue(&r, tag: try r.u8(), depth: 0) { body(key, $0) }
            }
        } catch {
            preconditionFailure("an encoded payload reads back: \(error)")
        }
    }

    /// Reads past one value with `tag`, handing a top-level string's bytes to `strings`.
    private static func skipValue(
        _ r: inout ByteReader, tag: UInt8, depth: Int, strings: (UnsafeRawBufferPointer) -> Void
    ) throws(CodecError) {
        switch tag {
        case Tag.null, Tag.false, Tag.true: break
        case Tag.int, Tag.time: _ = try r.svarint()
        case Tag.double: _ = try r.u64()
        case Tag.string:
            let bytes = try r.bytes(try r.count())
            if depth == 0 { strings(bytes) }
        case Tag.uuid: _ = try r.bytes(16)
        case Tag.fields where depth == 0:
            for _ in 0..<(try r.count(unit: 2)) {
                _ = try r.u8()
                try skipValue(&r, tag: try r.u8(), depth: 1, strings: strings)
            }
        default: throw CodecError(code: .unknownTag, offset: r.offset - 1)
        }
    }
}

/// Where a payload's strings are read from: inline (canonical form) or a block's table.
protocol StringCoding {
    mutating func decode(_ r: inout ByteReader) throws(CodecError) -> String
}

struct InlineStrings: StringCoding {
    mutating func decode(_ r: inout ByteReader) throws(CodecError) -> String { try r.string() }
}
