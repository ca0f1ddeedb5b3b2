public import LogbookJSON

/// Turns one wire-form event (a JSON object, see specs/events.md) into an `Event`, or says
/// precisely why not. Pure: it writes nothing, so a refused event leaves no trace.
public struct EventValidator: Sendable {
    /// The server's clock, for the "too far in the future" rule.
    public var now: Timestamp

    public init(now: Timestamp) { self.now = now }

    /// The event and the tenant named by its `tenant` field (nil when absent).
    public struct Validated: Sendable {
        public var event: Event
        public var tenant: TenantID?
    }

    /// Parses and validates one NDJSON line.
    public func validate(line: UnsafeRawBufferPointer) throws(ValidationError) -> Validated {
        if let fast = FastEventDecoder(now: now).decode(line) { return fast }
        return try validateInGeneral(line: line)
    }

    /// Parses and validates one NDJSON line and appends its event to `events` in its encoded
    /// form; returns the tenant the line names, if any, as its index in `tenants.names` (each
    /// name checked and made into a `TenantID` once, however many lines name it). An invalid
    /// line appends nothing. Lines of the common shape are encoded straight from their bytes,
    /// without an `Event`.
    public func validate(
        line: UnsafeRawBufferPointer, into events: inout EncodedEvents, tenants: inout TenantNames
    ) throws(ValidationError)
        -> Int?
    {
        if let index = FastEventDecoder(now: now).decode(line, into: &events, tenant: { tenants.index(utf8: $0) }) {
            return index
        }
        let v = try validateInGeneral(line: line)
        events.append(v.event)
        return v.tenant.map { tenants.index(of: $0) }
    }

    /// `validate(line:)` through the JSON tree only (tests compare it with the fast path).
    func validateInGeneral(line: UnsafeRawBufferPointer) throws(ValidationError) -> Validated {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw ValidationError(.invalidJSON, field: "", "the event is not valid JSON (\(error))")
        }
        return try validate(value)
    }

    /// Validates a parsed wire-form event.
    public func validate(_ value: JSONValue) throws(ValidationError) -> Validated {
        guard case .object(let object) = value else {
            throw ValidationError(.notAnObject, field: "", "an event must be a JSON object")
        }
        var id: EventID?
        var tenant: TenantID?
        var type: EventType?
        var subject: UserID?
        var actor: String?
        var occurredAt: Timestamp?
        var durationValue: JSONValue?
        var data: JSONObject?
        for (key, member) in object.members {
            switch key {
            case "id":
                guard case .string(let s) = member else { throw wrongType("id", "a UUID string") }
                guard let parsed = UUID128(s) else { throw invalid("id", "must be a UUID (8-4-4-4-12 hex digits)") }
                id = parsed
            case "tenant":
                guard case .string(let s) = member else { throw wrongType("tenant", "a string") }
                guard let parsed = TenantID(s) else {
                    throw invalid("tenant", "must be 1-64 characters of a-z, 0-9, '_' and '-'")
                }
                tenant = parsed
            case "type":
                guard case .string(let s) = member else { throw wrongType("type", "a string") }
                guard let parsed = EventType(name: s) else {
                    throw ValidationError(.unknownType, field: "type", "is not a type of the event catalogue v1")
                }
                type = parsed
            case "user":
                if case .null = member { continue }
                guard case .string(let s) = member else { throw wrongType("user", "a UUID string") }
                guard let parsed = UUID128(s) else { throw invalid("user", "must be a UUID (8-4-4-4-12 hex digits)") }
                subject = parsed
            case "actor":
                guard case .string(let s) = member else { throw wrongType("actor", "a string") }
                try checkLength(s, max: Catalogue.maxActorBytes, field: "actor")
                actor = s
            case "ts":
                guard case .string(let s) = member else { throw wrongType("ts", "an RFC 3339 timestamp string") }
                guard let t = Timestamp(rfc3339: s) else {
                    throw invalid("ts", "must be an RFC 3339 timestamp such as 2025-03-03T09:15:02.345Z")
                }
                occurredAt = t
            case "duration":
                durationValue = member
            case "data":
                guard case .object(let o) = member else { throw wrongType("data", "an object") }
                data = o
            default:
                throw ValidationError(
                    .unknownField, field: key,
                    "is not a field of the v1 envelope (id, tenant, type, user, actor, ts, duration, data)")
            }
        }
        guard let id else { throw missing("id") }
        guard let type else { throw missing("type") }
        guard let occurredAt else { throw missing("ts") }
        let spec = Catalogue.spec(type)
        if spec.subjectRequired && subject == nil { throw missing("user") }
        if occurredAt < Catalogue.earliest {
            throw invalid("ts", "is before 2000-01-01T00:00:00Z")
        }
        if occurredAt.microseconds > now.microseconds + Catalogue.maxFutureSkewMicros {
            throw ValidationError(.timestampInFuture, field: "ts", "is more than 24 hours ahead of the server's clock")
        }
        let duration = try validateDuration(durationValue, spec: spec)
        let fields = try validatePayload(data, spec: spec)
        let event = Event(
            id: id, type: type, subject: subject, actor: actor, occurredAt: occurredAt, duration: duration,
            data: fields)
        return Validated(event: event, tenant: tenant)
    }

    private func validateDuration(_ value: JSONValue?, spec: Catalogue.TypeSpec) throws(ValidationError) -> Int64? {
        guard let value, value != .null else {
            if spec.duration == true { throw missing("duration") }
            return nil
        }
        if spec.duration == false {
            throw ValidationError(.unknownField, field: "duration", "is not a field of \(spec.type.name)")
        }
        let seconds: Double
        switch value {
        case .integer(let i): seconds = Double(i)
        case .double(let d): seconds = d
        default: throw wrongType("duration", "a number of seconds")
        }
        if seconds < 0 { throw ValidationError(.negativeDuration, field: "duration", "must not be negative") }
        let micros = (seconds * 1_000_000).rounded()
        guard micros <= Double(Catalogue.maxDurationMicros) else {
            throw invalid("duration", "must be at most 86400 seconds")
        }
        return Int64(micros)
    }

    private func validatePayload(_ data: JSONObject?, spec: Catalogue.TypeSpec) throws(ValidationError) -> [Field] {
        let members = data?.members ?? []
        // Every member must be a field of this type: this is where data minimisation is enforced
        // (no screenshots, keystrokes, clipboard or file contents can ride along).
        for (key, _) in members where !spec.fields.contains(where: { $0.key.name == key }) {
            throw ValidationError(
                .unknownField, field: "data.\(key)", "is not a field of \(spec.type.name) in the event catalogue v1")
        }
        var fields: [Field] = []
        fields.reserveCapacity(spec.fields.count)
        for fs in spec.fields {
            let name = fs.key.name
            guard let value = members.first(where: { $0.key == name })?.value else {
                if fs.required { throw missing("data.\(name)") }
                continue
            }
            if value == .null, fs.kind != .uuidOrNull {
                if fs.required { throw missing("data.\(name)") }
                continue
            }
            fields.append(Field(fs.key, try convert(value, kind: fs.kind, field: "data.\(name)")))
        }
        if EventValidator.endsBeforeStart(fields, type: spec.type) {
            throw ValidationError(.negativeDuration, field: "data.end", "must not be before data.start")
        }
        return fields
    }

    /// A time entry whose `end` is before its `start` (the one rule across two fields).
    static func endsBeforeStart(_ fields: [Field], type: EventType) -> Bool {
        guard type == .timeEntryRecorded, case .time(let start)? = fields.value(of: .start),
            case .time(let end)? = fields.value(of: .end)
        else { return false }
        return end < start
    }

    private func convert(_ value: JSONValue, kind: Catalogue.Kind, field: String) throws(ValidationError) -> Value {
        switch kind {
        case .string(let max):
            guard case .string(let s) = value else { throw wrongType(field, "a string") }
            try checkLength(s, max: max, field: field)
            return .string(s)
        case .oneOf(let allowed):
            guard case .string(let s) = value else { throw wrongType(field, "a string") }
            guard allowed.contains(s) else { throw invalid(field, "must be one of \(allowed.joined(separator: ", "))") }
            return .string(s)
        case .int(let range):
            guard case .integer(let i) = value else { throw wrongType(field, "an integer") }
            guard range.contains(i) else {
                throw invalid(field, "must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return .int(i)
        case .bool:
            guard case .bool(let b) = value else { throw wrongType(field, "true or false") }
            return .bool(b)
        case .uuid, .uuidOrNull:
            if value == .null, kind == .uuidOrNull { return .null }
            guard case .string(let s) = value else { throw wrongType(field, "a UUID string") }
            guard let u = UUID128(s) else { throw invalid(field, "must be a UUID (8-4-4-4-12 hex digits)") }
            return .uuid(u)
        case .time:
            guard case .string(let s) = value else { throw wrongType(field, "an RFC 3339 timestamp string") }
            guard let t = Timestamp(rfc3339: s), t >= Catalogue.earliest else {
                throw invalid(field, "must be an RFC 3339 timestamp after 2000-01-01")
            }
            return .time(t)
        case .sha256:
            guard case .string(let s) = value else { throw wrongType(field, "a hex string") }
            guard s.utf8.count == 64, s.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw invalid(field, "must be 64 lower-case hex digits")
            }
            return .string(s)
        case .eventRef:
            switch value {
            case .string(let s):
                guard let u = UUID128(s) else {
                    throw invalid(field, "must be an event id (UUID) or a sequence number")
                }
                return .uuid(u)
            case .integer(let i):
                guard i >= 1 else { throw invalid(field, "a sequence number starts at 1") }
                return .int(i)
            default:
                throw wrongType(field, "an event id (UUID string) or a sequence number")
            }
        case .json(let max):
            var writer = JSONWriter()
            writer.write(value)
            guard writer.bytes.count <= max else {
                throw ValidationError(
                    .tooLong, field: field, "is \(writer.bytes.count) bytes as JSON; the limit is \(max)")
            }
            return .string(String(decoding: writer.bytes, as: UTF8.self))
        case .replacement:
            guard case .object(let o) = value else { throw wrongType(field, "an object of replacement fields") }
            guard o.count > 0 else { throw invalid(field, "must name at least one field to replace") }
            var out: [Field] = []
            for (key, v) in o.members {
                guard let k = FieldKey(name: key), let kind = Catalogue.replacementKind(k) else {
                    throw ValidationError(
                        .unknownField, field: "\(field).\(key)", "is not a replaceable catalogue field")
                }
                if v == .null {
                    out.append(Field(k, .null))
                } else {
                    out.append(Field(k, try convert(v, kind: kind, field: "\(field).\(key)")))
                }
            }
            out.sort { $0.key < $1.key }
            return .fields(out)
        }
    }

    private func checkLength(_ s: String, max: Int, field: String) throws(ValidationError) {
        let n = s.utf8.count
        if n > max { throw ValidationError(.tooLong, field: field, "is \(n) bytes long; the limit is \(max)") }
    }

    private func wrongType(_ field: String, _ expected: String) -> ValidationError {
        ValidationError(.wrongType, field: field, "must be \(expected)")
    }

    private func invalid(_ field: String, _ message: String) -> ValidationError {
        ValidationError(.invalidValue, field: field, message)
    }

    private func missing(_ field: String) -> ValidationError {
        ValidationError(.missingField, field: field, "is required")
    }
}
