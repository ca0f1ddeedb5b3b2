/// One audit record (the `audit` database): an event that changed something people rely on —
/// every admin event, correction and retraction, and every change to tasks, comments, time
/// entries, tags, attachments and viewers — with, for corrections and retractions, the
/// original they apply to and its fields before and after.
public struct AuditRecord: Sendable, Equatable {
    public var event: Event
    /// Corrections and retractions: the sequence of the original (root of the chain).
    public var target: UInt64?
    /// The original's id, when known.
    public var targetID: EventID?
    /// Corrections and retractions: the original's effective payload before this event.
    public var before: [Field]?
    /// Corrections: the original's effective payload after it (retractions: nil).
    public var after: [Field]?

    static func isAudited(_ type: EventType) -> Bool {
        switch type {
        case .activityWindow, .activityAFK, .attendanceClockIn, .attendanceClockOut: false
        default: true
        }
    }

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        var e = ByteWriter(capacity: 128)
        EventCodec.encode(event, into: &e)
        w.varint(UInt64(e.bytes.count))
        w.raw(e.bytes)
        w.u8((target != nil ? 1 : 0) | (targetID != nil ? 2 : 0) | (before != nil ? 4 : 0) | (after != nil ? 8 : 0))
        if let target { w.varint(target) }
        if let targetID { w.uuid(targetID) }
        if let before { w.payload(before) }
        if let after { w.payload(after) }
        return w.bytes
    }

    init(event: Event, target: UInt64? = nil, targetID: EventID? = nil, before: [Field]? = nil, after: [Field]? = nil) {
        self.event = event
        self.target = target
        self.targetID = targetID
        self.before = before
        self.after = after
    }

    init(decoding b: UnsafeRawBufferPointer) throws(CodecError) {
        var r = ByteReader(b)
        let n = try r.count()
        event = try EventCodec.decode(try r.bytes(n))
        let flags = try r.u8()
        guard flags & ~15 == 0 else { throw r.fail(.unknownTag) }
        var strings = InlineStrings()
        target = flags & 1 != 0 ? try r.varint() : nil
        targetID = flags & 2 != 0 ? try r.uuid() : nil
        before = flags & 4 != 0 ? try EventCodec.decodePayload(&r, strings: &strings) : nil
        after = flags & 8 != 0 ? try EventCodec.decodePayload(&r, strings: &strings) : nil
        guard r.isAtEnd else { throw r.fail(.trailingBytes) }
    }

    /// Index keys: by subject (kind 1), type (kind 2), actor (kind 3: a hash of the actor text;
    /// readers compare the actor itself).
    static func indexKeys(_ e: Event) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        if let s = e.subject { keys.append(indexKey(subject: s, e.sequence)) }
        keys.append(indexKey(type: e.type, e.sequence))
        if let a = e.actor { keys.append(indexKey(actor: a, e.sequence)) }
        return keys
    }

    static func indexKey(subject: UserID, _ sequence: UInt64) -> [UInt8] {
        var k: [UInt8] = [1]
        subject.append(to: &k)
        return k + ProjectionKey.sequence(sequence)
    }

    static func indexKey(type: EventType, _ sequence: UInt64) -> [UInt8] {
        [2, type.rawValue] + ProjectionKey.sequence(sequence)
    }

    static func indexKey(actor: String, _ sequence: UInt64) -> [UInt8] {
        var k: [UInt8] = [3]
        withUnsafeBytes(of: fnv1a(actor).bigEndian) { k.append(contentsOf: $0) }
        return k + ProjectionKey.sequence(sequence)
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// What the identity projection knows about one user (the `people` database).
public struct PersonRecord: Sendable, Equatable {
    public var role: String?
    public var manager: UserID?
    public var active = true

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 48)
        w.u8((role != nil ? 1 : 0) | (manager != nil ? 2 : 0) | (active ? 4 : 0))
        if let role { w.string(role) }
        if let manager { w.uuid(manager) }
        return w.bytes
    }

    init() {}

    init(decoding b: UnsafeRawBufferPointer) throws(CodecError) {
        var r = ByteReader(b)
        let flags = try r.u8()
        role = flags & 1 != 0 ? try r.string() : nil
        manager = flags & 2 != 0 ? try r.uuid() : nil
        active = flags & 4 != 0
        guard r.isAtEnd else { throw r.fail(.trailingBytes) }
    }
}
