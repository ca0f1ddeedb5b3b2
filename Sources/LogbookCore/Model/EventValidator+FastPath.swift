import Foundation
import LogbookJSON

/// The fast path of `EventValidator.validate(line:)`: reads the common shape of a wire event —
/// a flat envelope whose `data` holds only scalars, strings without escapes — straight from the
/// line's bytes into an `Event`, without building a JSON tree first.
///
/// It only ever accepts. Whenever the line is unusual (escapes, nesting, exponents, duplicate or
/// unknown keys) or breaks any rule, it answers nil and the general path decides, so every
/// refusal, and its wording, comes from one place. A property test holds the two paths to the
/// same result on valid and mutated lines.
struct FastEventDecoder {
    let now: Timestamp

    func decode(_ line: UnsafeRawBufferPointer) -> EventValidator.Validated? {
        accept(line) { envelope, payload -> EventValidator.Validated? in
            var tenant: TenantID?
            if let name = envelope.tenant {
                guard let t = TenantID(utf8: name) else { return nil }
                tenant = t
            }
            var fields: [Field] = []
            fields.reserveCapacity(payload.count)
            for (key, value) in payload { fields.append(Field(key, value.value)) }
            let event = Event(
                id: envelope.id, type: envelope.type, subject: envelope.subject,
                actor: envelope.actor.map { String(decoding: $0, as: UTF8.self) }, occurredAt: envelope.occurredAt,
                duration: envelope.duration, data: fields)
            return EventValidator.Validated(event: event, tenant: tenant)
        } ?? nil
    }

    /// Same, appending the event to `events` in its encoded form, written straight from the
    /// line's bytes (no `Event`, no `String`s made); nil, with `events` unchanged, when the
    /// general path must decide. Else what `resolve` makes of the tenant's name, if the line
    /// names one: `resolve` answers nil for a name that is not valid (the general path then
    /// says why), and is called before anything is appended.
    func decode<Tenant>(
        _ line: UnsafeRawBufferPointer, into events: inout EncodedEvents,
        tenant resolve: (UnsafeRawBufferPointer) -> Tenant?
    ) -> Tenant?? {
        accept(line) { envelope, payload -> Tenant?? in
            var tenant: Tenant?
            if let name = envelope.tenant {
                guard let t = resolve(name) else { return nil }
                tenant = t
            }
            var bound = 1 + 16 + 10 + 10 + 10 + (envelope.actor?.count ?? 0)
            for (_, value) in payload { bound += 2 + value.encodedBound }
            events.append(
                id: envelope.id, type: envelope.type, subject: envelope.subject,
                occurred: envelope.occurredAt.microseconds, tailBound: bound
            ) { c in
                c.u8(
                    EventCodec.flags(
                        subject: envelope.subject != nil, actor: envelope.actor != nil,
                        duration: envelope.duration != nil))
                if let s = envelope.subject { c.uuid(s) }
                if let a = envelope.actor {
                    c.varint(UInt64(a.count))
                    c.raw(a)
                }
                if let d = envelope.duration { c.svarint(d) }
                c.varint(UInt64(payload.count))
                for (key, value) in payload {
                    c.u8(key.rawValue)
                    value.encode(into: &c)
                }
            }
            return .some(tenant)
        } ?? nil
    }

    /// Parses and checks `line`, and hands its envelope and its payload (in catalogue order)
    /// to `make`; nil when the line is unusual or breaks a rule.
    private func accept<R>(
        _ line: UnsafeRawBufferPointer, _ make: (Envelope, UnsafeBufferPointer<(FieldKey, Checked)>) -> R
    ) -> R? {
        // The general parser's size limit applies first; over it, let it say so.
        guard line.count <= JSONParser.Limits.default.maxBytes, let base = line.baseAddress else { return nil }
        return withUnsafeTemporaryAllocation(of: DataMember.self, capacity: DataMembers.capacity) { storage in
            var data = DataMembers(storage: storage)
            let lexer = Lexer(base: base.assumingMemoryBound(to: UInt8.self), count: line.count)
            guard let envelope = envelope(lexer, &data) else { return nil }
            return withUnsafeTemporaryAllocation(of: (FieldKey, Checked).self, capacity: 16) { fields in
                guard let n = payload(data, spec: envelope.spec, into: fields) else { return nil }
                return make(envelope, UnsafeBufferPointer(rebasing: fields[..<n]))
            }
        }
    }

    /// A line's envelope, checked.
    private struct Envelope {
        var id: EventID
        /// The name's bytes as written, not yet checked (`TenantID(utf8:)`, `TenantNames`).
        var tenant: UnsafeRawBufferPointer?
        var type: EventType
        var subject: UserID?
        /// Well-formed UTF-8.
        var actor: UnsafeRawBufferPointer?
        var occurredAt: Timestamp
        var duration: Int64?
        var spec: Catalogue.TypeSpec
    }

    private func envelope(_ lexer: Lexer, _ data: inout DataMembers) -> Envelope? {
        var lexer = lexer
        guard lexer.skipToByte(UInt8(ascii: "{")) else { return nil }
        var seen: UInt16 = 0
        var id: EventID?
        var tenant: UnsafeRawBufferPointer?
        var type: EventType?
        var subject: UserID?
        var actor: UnsafeRawBufferPointer?
        var occurredAt: Timestamp?
        var duration: Int64?
        if !lexer.skipToByte(UInt8(ascii: "}")) {
            repeat {
                guard let key = lexer.string(), lexer.skipToByte(UInt8(ascii: ":")) else { return nil }
                guard let member = EnvelopeKey(key), seen & member.bit == 0 else { return nil }
                seen |= member.bit
                switch member {
                case .id:
                    guard let s = lexer.scalarString(), let u = UUID128(utf8: s) else { return nil }
                    id = u
                case .tenant:
                    guard let s = lexer.scalarString() else { return nil }
                    tenant = s
                case .type:
                    guard let s = lexer.scalarString(), let t = EventType(nameBytes: s) else { return nil }
                    type = t
                case .user:
                    guard let value = lexer.scalar() else { return nil }
                    switch value {
                    case .null: break
                    case .string(let s):
                        guard let u = UUID128(utf8: s) else { return nil }
                        subject = u
                    default: return nil
                    }
                case .actor:
                    guard let s = lexer.scalarString(), s.count <= Catalogue.maxActorBytes, isWellFormedUTF8(s)
                    else { return nil }
                    actor = s
                case .ts:
                    guard let s = lexer.scalarString(), let t = Timestamp(rfc3339: s) else { return nil }
                    occurredAt = t
                case .duration:
                    guard let value = lexer.scalar() else { return nil }
                    switch value {
                    case .null: break
                    case .number(let n):
                        guard let micros = Self.micros(seconds: n) else { return nil }
                        duration = micros
                    default: return nil
                    }
                case .data:
                    guard lexer.skipToByte(UInt8(ascii: "{")), lexer.members(into: &data) else { return nil }
                }
            } while lexer.skipToByte(UInt8(ascii: ","))
            guard lexer.skipToByte(UInt8(ascii: "}")) else { return nil }
        }
        guard lexer.atEndAfterWhitespace(), let id, let type, let occurredAt else { return nil }
        let spec = Catalogue.spec(type)
        guard !(spec.subjectRequired && subject == nil), occurredAt >= Catalogue.earliest,
            occurredAt.microseconds <= now.microseconds + Catalogue.maxFutureSkewMicros
        else { return nil }
        switch spec.duration {
        case true?: guard duration != nil else { return nil }
        case false?: guard duration == nil else { return nil }
        case nil: break
        }
        return Envelope(
            id: id, tenant: tenant, type: type, subject: subject, actor: actor, occurredAt: occurredAt,
            duration: duration, spec: spec)
    }

    /// The payload in catalogue order, into `out` (room for 16), when every member is a field
    /// of the type with a valid value; how many fields it has.
    private func payload(
        _ data: DataMembers, spec: Catalogue.TypeSpec, into out: UnsafeMutableBufferPointer<(FieldKey, Checked)>
    ) -> Int? {
        // Each member must name a distinct field of this type.
        // slots: 4 bits per catalogue field (a type has at most 16), 1 + the index of its member.
        guard spec.fields.count <= 16 else { return nil }
        var slots: UInt64 = 0
        for m in 0..<data.count {
            let key = data[m].key
            guard
                let f = spec.fields.firstIndex(where: { FieldKey.nameBytes[Int($0.key.rawValue)].equals(key) }),
                (slots >> (4 * UInt64(f))) & 0xF == 0
            else { return nil }
            slots |= UInt64(m + 1) << (4 * UInt64(f))
        }
        var n = 0
        var start: Timestamp?
        var end: Timestamp?
        for (f, fs) in spec.fields.enumerated() {
            let slot = Int((slots >> (4 * UInt64(f))) & 0xF)
            guard slot > 0 else {
                if fs.required { return nil }
                continue
            }
            let value = data[slot - 1].value
            if case .null = value, fs.kind != .uuidOrNull {
                if fs.required { return nil }
                continue
            }
            guard let checked = check(value, kind: fs.kind) else { return nil }
            if case .time(let t) = checked {
                if fs.key == .start { start = t }
                if fs.key == .end { end = t }
            }
            (out.baseAddress! + n).initialize(to: (fs.key, checked))
            n += 1
        }
        // A time entry must not end before it starts (`EventValidator.endsBeforeStart`).
        if spec.type == .timeEntryRecorded, let start, let end, end < start { return nil }
        return n
    }

    /// A payload value that passed its field's rules, still as the line's bytes where it is text.
    private enum Checked {
        case null
        case bool(Bool)
        case int(Int64)
        case uuid(UUID128)
        case time(Timestamp)
        /// Well-formed UTF-8.
        case text(UnsafeRawBufferPointer)

        var value: Value {
            switch self {
            case .null: .null
            case .bool(let b): .bool(b)
            case .int(let i): .int(i)
            case .uuid(let u): .uuid(u)
            case .time(let t): .time(t)
            case .text(let s): .string(String(decoding: s, as: UTF8.self))
            }
        }

        /// The most bytes `encode` writes, tag included.
        var encodedBound: Int {
            if case .text(let s) = self { return 11 + s.count }
            return 17
        }

        /// Tag and value as `EventCodec.encodePayload` writes `value`.
        func encode(into c: inout ByteCursor) {
            switch self {
            case .null: c.u8(EventCodec.Tag.null)
            case .bool(let b): c.u8(b ? EventCodec.Tag.true : EventCodec.Tag.false)
            case .int(let i):
                c.u8(EventCodec.Tag.int)
                c.svarint(i)
            case .uuid(let u):
                c.u8(EventCodec.Tag.uuid)
                c.uuid(u)
            case .time(let t):
                c.u8(EventCodec.Tag.time)
                c.svarint(t.microseconds)
            case .text(let s):
                c.u8(EventCodec.Tag.string)
                c.varint(UInt64(s.count))
                c.raw(s)
            }
        }
    }

    private func check(_ value: Scalar, kind: Catalogue.Kind) -> Checked? {
        switch (kind, value) {
        case (.string(let max), .string(let s)):
            guard s.count <= max, isWellFormedUTF8(s) else { return nil }
            return .text(s)
        case (.oneOf(let allowed), .string(let s)):
            return allowed.contains(String(decoding: s, as: UTF8.self)) ? .text(s) : nil
        case (.int(let range), .number(let n)):
            guard let i = Self.integer(n), range.contains(i) else { return nil }
            return .int(i)
        case (.bool, .bool(let b)):
            return .bool(b)
        case (.uuidOrNull, .null):
            return .null
        case (.uuid, .string(let s)), (.uuidOrNull, .string(let s)):
            return UUID128(utf8: s).map(Checked.uuid)
        case (.time, .string(let s)):
            guard let t = Timestamp(rfc3339: s), t >= Catalogue.earliest else { return nil }
            return .time(t)
        case (.sha256, .string(let s)):
            guard s.count == 64, s.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
            return .text(s)
        case (.eventRef, .string(let s)):
            return UUID128(utf8: s).map(Checked.uuid)
        case (.eventRef, .number(let n)):
            guard let i = Self.integer(n), i >= 1 else { return nil }
            return .int(i)
        default:
            // JSON-valued settings and correction sets are left to the general path.
            return nil
        }
    }

    /// Whether a string's bytes are well-formed UTF-8, without making a `String`: ASCII (the
    /// usual case) word by word, anything else through `UTF8Span`'s validation (making a
    /// `String` to compare allocated and copied each title with a dash in it).
    private func isWellFormedUTF8(_ s: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= s.count {
            if s.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < s.count && s[i] < 0x80 { i += 1 }
        return i == s.count || s.withMemoryRebound(to: UInt8.self) { (try? UTF8Span(validating: $0.span)) != nil }
    }

    /// A JSON integer without fraction or exponent, up to 18 digits (always fits Int64).
    static func integer(_ n: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        let negative = n.first == UInt8(ascii: "-")
        if negative { i = 1 }
        let digits = n.count - i
        guard (1...18).contains(digits), digits == 1 || n[i] != UInt8(ascii: "0") else { return nil }
        var v: Int64 = 0
        while i < n.count {
            let d = n[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
            i += 1
        }
        if negative && v == 0 { return nil }  // "-0": left to the general path
        return negative ? -v : v
    }

    /// Seconds written as `123` or `123.456` (at most 6 decimals) as whole microseconds, within
    /// the catalogue's limit. Exact: it equals the general path's `(seconds × 10⁶).rounded()`
    /// there, whose error is far below half a microsecond at these magnitudes.
    static func micros(seconds n: UnsafeRawBufferPointer) -> Int64? {
        guard n.first != UInt8(ascii: "-") else { return nil }  // negative: the general path refuses it
        let dot = n.firstIndex(of: UInt8(ascii: "."))
        guard let whole = integer(UnsafeRawBufferPointer(rebasing: n[..<(dot ?? n.count)])),
            whole <= Catalogue.maxDurationMicros / 1_000_000
        else { return nil }
        var micros = whole * 1_000_000
        if let dot {
            let fraction = n[(dot + 1)...]
            guard (1...6).contains(fraction.count) else { return nil }
            var scale: Int64 = 100_000
            for c in fraction {
                let d = c &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                micros += Int64(d) * scale
                scale /= 10
            }
        }
        return micros <= Catalogue.maxDurationMicros ? micros : nil
    }
}

/// The envelope's members, as bits of a set of those seen.
private enum EnvelopeKey: UInt16 {
    case id = 1, tenant = 2, type = 4, user = 8, actor = 16, ts = 32, duration = 64, data = 128

    var bit: UInt16 { rawValue }

    init?(_ key: UnsafeRawBufferPointer) {
        guard key.count <= 8 else { return nil }
        switch (key.count, key.littleEndianWord) {
        case (2, 0x64_69): self = .id
        case (2, 0x73_74): self = .ts
        case (4, 0x65_70_79_74): self = .type
        case (4, 0x72_65_73_75): self = .user
        case (4, 0x61_74_61_64): self = .data
        case (5, 0x72_6F_74_63_61): self = .actor
        case (6, 0x74_6E_61_6E_65_74): self = .tenant
        case (8, 0x6E_6F_69_74_61_72_75_64): self = .duration
        default: return nil
        }
    }
}

/// A JSON scalar as the bytes it was written with.
private enum Scalar {
    case null
    case bool(Bool)
    /// The number's text (validated only as far as `FastEventDecoder.integer`/`micros` go).
    case number(UnsafeRawBufferPointer)
    /// The string's content between the quotes: no escapes, no control characters.
    case string(UnsafeRawBufferPointer)
}

private typealias DataMember = (key: UnsafeRawBufferPointer, value: Scalar)

/// Up to 15 members of `data` (events have a handful), in caller-provided scratch memory.
private struct DataMembers {
    static let capacity = 15
    let storage: UnsafeMutableBufferPointer<DataMember>
    private(set) var count = 0

    init(storage: UnsafeMutableBufferPointer<DataMember>) { self.storage = storage }

    subscript(i: Int) -> DataMember { storage[i] }

    /// Adds a member; false when there is no room (the general path takes over).
    mutating func append(_ key: UnsafeRawBufferPointer, _ value: Scalar) -> Bool {
        guard count < Self.capacity else { return false }
        (storage.baseAddress! + count).initialize(to: (key, value))
        count += 1
        return true
    }
}

/// A cursor over one line; every method answers nil/false on anything outside the fast path.
private struct Lexer {
    let base: UnsafePointer<UInt8>
    let count: Int
    var position = 0

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    private func span(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    private mutating func skipWhitespace() {
        while position < count {
            switch base[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// Skips whitespace, then consumes `byte` if it is next.
    mutating func skipToByte(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < count, base[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func atEndAfterWhitespace() -> Bool {
        skipWhitespace()
        return position == count
    }

    /// A string without escapes or control characters, after optional whitespace.
    mutating func string() -> UnsafeRawBufferPointer? {
        guard skipToByte(UInt8(ascii: "\"")) else { return nil }
        let start = position
        let stop = PlainStringScan.stop(base, from: start, to: count)
        guard stop < count, base[stop] == UInt8(ascii: "\"") else { return nil }
        position = stop + 1
        return span(start, stop)
    }

    mutating func scalarString() -> UnsafeRawBufferPointer? {
        guard case .string(let s)? = scalar() else { return nil }
        return s
    }

    mutating func scalar() -> Scalar? {
        skipWhitespace()
        guard position < count else { return nil }
        switch base[position] {
        case UInt8(ascii: "\""):
            return string().map(Scalar.string)
        case UInt8(ascii: "n"): return literal(0x6C_6C_75_6E, 4) ? .null : nil  // "null"
        case UInt8(ascii: "t"): return literal(0x65_75_72_74, 4) ? .bool(true) : nil  // "true"
        case UInt8(ascii: "f"): return literal(0x65_73_6C_61_66, 5) ? .bool(false) : nil  // "false"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = position
            while position < count {
                switch base[position] {
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."): position += 1
                case UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"): return nil
                default: return .number(span(start, position))
                }
            }
            return .number(span(start, position))
        default:
            return nil
        }
    }

    /// Consumes a literal given as its little-endian bytes.
    private mutating func literal(_ word: UInt64, _ n: Int) -> Bool {
        guard count - position >= n, span(position, position + n).littleEndianWord == word else { return false }
        position += n
        return true
    }

    /// The members of a flat object whose `{` was just consumed, through its `}`.
    mutating func members(into data: inout DataMembers) -> Bool {
        if skipToByte(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = string(), skipToByte(UInt8(ascii: ":")), let value = scalar(), data.append(key, value)
            else { return false }
        } while skipToByte(UInt8(ascii: ","))
        return skipToByte(UInt8(ascii: "}"))
    }
}

extension UnsafeRawBufferPointer {
    /// Up to the first eight bytes as a little-endian word (for comparing short keys at once).
    ///
    /// In at most two loads that stay inside the buffer, not a byte at a time (every key of
    /// every line comes through here): where the two overlap they hold the same bytes at the
    /// same places, so or-ing them is exact.
    var littleEndianWord: UInt64 {
        let n = Swift.min(count, 8)
        guard n > 0, let p = baseAddress else { return 0 }
        func byte(_ i: Int) -> UInt64 { UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
        func word32(_ i: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self))) << (8 * UInt64(i))
        }
        switch n {
        case 8: return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        case 4...7: return word32(0) | word32(n - 4)
        default: return byte(0) | byte(n / 2) | byte(n - 1)  // 1 to 3 bytes: all of them
        }
    }
}

extension Array where Element == UInt8 {
    func equals(_ bytes: UnsafeRawBufferPointer) -> Bool {
        count == bytes.count
            && (count == 0 || withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, count) == 0 })
    }
}

extension EventType {
    private static let namesByLength: [[(name: [UInt8], type: EventType)]] = {
        var table = [[(name: [UInt8], type: EventType)]](repeating: [], count: 33)
        for t in EventType.allCases { table[t.name.utf8.count].append((Array(t.name.utf8), t)) }
        return table
    }()

    /// Looks a wire name up from its bytes, without making a string.
    init?(nameBytes: UnsafeRawBufferPointer) {
        guard nameBytes.count < EventType.namesByLength.count,
            let hit = EventType.namesByLength[nameBytes.count].first(where: { $0.name.equals(nameBytes) })
        else { return nil }
        self = hit.type
    }
}

extension FieldKey {
    /// Wire names as bytes, indexed by raw value, for matching keys without making strings.
    static let nameBytes: [[UInt8]] = (0...Int(FieldKey.allCases.map(\.rawValue).max()!)).map {
        FieldKey(rawValue: UInt8($0)).map { Array($0.name.utf8) } ?? []
    }
}
