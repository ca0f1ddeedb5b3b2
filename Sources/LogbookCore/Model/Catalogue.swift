/// What each event type may carry: the machine-readable form of specs/events.md.
public enum Catalogue {
    /// The shape a field's value must have.
    public enum Kind: Sendable, Equatable {
        /// UTF-8 text of at most `maxBytes` bytes.
        case string(maxBytes: Int)
        /// One of a fixed set of strings.
        case oneOf([String])
        /// An integer within `range`.
        case int(ClosedRange<Int64>)
        case bool
        /// A UUID in canonical text form.
        case uuid
        /// A UUID or JSON null.
        case uuidOrNull
        /// An RFC 3339 timestamp.
        case time
        /// 64 lower-case hex digits.
        case sha256
        /// Another event of the tenant: its id (UUID text) or its sequence number (integer ≥ 1).
        case eventRef
        /// Any JSON value, kept as compact JSON text of at most `maxBytes` bytes (settings values).
        case json(maxBytes: Int)
        /// Replacement fields for a correction: an object of catalogue fields with scalar values.
        case replacement
    }

    /// One field of a type's payload.
    public struct FieldSpec: Sendable {
        public var key: FieldKey
        public var kind: Kind
        public var required: Bool
    }

    /// One event type's rules.
    public struct TypeSpec: Sendable {
        public var type: EventType
        /// Payload fields, in the order they are stored and written.
        public var fields: [FieldSpec]
        /// Whether the envelope's `duration` is required (true), optional (nil) or refused (false).
        public var duration: Bool?
        /// Whether the envelope's `user` is required; tenant-wide types may omit it.
        public var subjectRequired: Bool
    }

    /// Envelope limits.
    public static let maxActorBytes = 128
    /// Longest accepted duration: one day.
    public static let maxDurationMicros: Int64 = 86_400_000_000
    /// How far ahead of the server's clock an event may claim to have happened.
    public static let maxFutureSkewMicros: Int64 = 86_400_000_000
    /// Earliest accepted occurred-at: 2000-01-01T00:00:00Z.
    public static let earliest = Timestamp(microseconds: 946_684_800_000_000)

    static let shortText = 200
    static let noteText = 4000
    static let roles = ["employee", "manager", "admin", "auditor"]

    private static func f(_ key: FieldKey, _ kind: Kind, required: Bool = true) -> FieldSpec {
        FieldSpec(key: key, kind: kind, required: required)
    }

    private static func spec(
        _ t: EventType, duration: Bool? = false, subject: Bool = true, _ fields: [FieldSpec]
    )
        -> TypeSpec
    {
        TypeSpec(type: t, fields: fields, duration: duration, subjectRequired: subject)
    }

    /// Every type's spec, indexed by the type's raw value.
    public static let specs: [TypeSpec?] = {
        let all: [TypeSpec] = [
            spec(
                .activityWindow, duration: true,
                [
                    f(.app, .string(maxBytes: 256)), f(.title, .string(maxBytes: 1024)),
                    f(.url, .string(maxBytes: 2048), required: false),
                ]),
            spec(.activityAFK, duration: true, [f(.status, .oneOf(["afk", "not-afk"]))]),
            spec(.attendanceClockIn, [f(.note, .string(maxBytes: noteText), required: false)]),
            spec(.attendanceClockOut, [f(.report, .string(maxBytes: noteText), required: false)]),
            spec(
                .timeEntryRecorded,
                [
                    f(.project, .string(maxBytes: shortText)), f(.task, .string(maxBytes: shortText), required: false),
                    f(.start, .time), f(.end, .time), f(.note, .string(maxBytes: noteText), required: false),
                    f(.billable, .bool, required: false),
                ]),
            spec(
                .taskCreated,
                [
                    f(.task, .string(maxBytes: shortText)), f(.title, .string(maxBytes: 500)),
                    f(.project, .string(maxBytes: shortText), required: false),
                    f(.assignee, .uuid, required: false), f(.due, .time, required: false),
                ]),
            spec(
                .taskUpdated,
                [
                    f(.task, .string(maxBytes: shortText)), f(.title, .string(maxBytes: 500), required: false),
                    f(.project, .string(maxBytes: shortText), required: false),
                    f(.assignee, .uuidOrNull, required: false), f(.due, .time, required: false),
                ]),
            spec(
                .taskStatusChanged,
                [
                    f(.task, .string(maxBytes: shortText)), f(.from, .string(maxBytes: 64), required: false),
                    f(.to, .string(maxBytes: 64)),
                ]),
            spec(
                .commentAdded,
                [
                    f(.task, .string(maxBytes: shortText)), f(.comment, .string(maxBytes: shortText)),
                    f(.text, .string(maxBytes: noteText)),
                ]),
            spec(.tagAdded, [f(.entity, .string(maxBytes: shortText)), f(.tag, .string(maxBytes: 100))]),
            spec(.tagRemoved, [f(.entity, .string(maxBytes: shortText)), f(.tag, .string(maxBytes: 100))]),
            spec(
                .attachmentAdded,
                [
                    f(.task, .string(maxBytes: shortText)), f(.name, .string(maxBytes: 255)),
                    f(.size, .int(0...(1 << 40))), f(.contentType, .string(maxBytes: 255)), f(.sha256, .sha256),
                ]),
            spec(
                .viewerChanged,
                [f(.task, .string(maxBytes: shortText)), f(.viewer, .uuid), f(.action, .oneOf(["added", "removed"]))]),
            spec(
                .userInvited,
                [
                    f(.email, .string(maxBytes: 320)), f(.role, .oneOf(roles)),
                    f(.manager, .uuidOrNull, required: false),
                    f(.name, .string(maxBytes: shortText), required: false),
                ]),
            spec(.userRoleChanged, [f(.role, .oneOf(roles)), f(.manager, .uuidOrNull, required: false)]),
            spec(.userDeactivated, [f(.reason, .string(maxBytes: 500), required: false)]),
            spec(.userReactivated, [f(.reason, .string(maxBytes: 500), required: false)]),
            spec(.teamMemberAdded, [f(.manager, .uuid)]),
            spec(.teamMemberRemoved, [f(.manager, .uuid)]),
            spec(
                .settingsChanged, subject: false, [f(.key, .string(maxBytes: 100)), f(.value, .json(maxBytes: 16384))]),
            spec(.overrideApplied, [f(.target, .eventRef), f(.reason, .string(maxBytes: 500))]),
            spec(
                .retentionPolicySet, subject: false,
                [
                    f(.eventClass, .oneOf(["activity", "attendance", "time_entry", "task", "admin", "audit"])),
                    f(.days, .int(1...36_500)),
                ]),
            spec(
                .eventCorrected,
                [f(.target, .eventRef), f(.set, .replacement), f(.reason, .string(maxBytes: 500), required: false)]),
            spec(.eventRetracted, [f(.target, .eventRef), f(.reason, .string(maxBytes: 500))]),
        ]
        var table = [TypeSpec?](repeating: nil, count: 256)
        for s in all { table[Int(s.type.rawValue)] = s }
        return table
    }()

    /// The spec of `type`.
    public static func spec(_ type: EventType) -> TypeSpec { specs[Int(type.rawValue)]! }

    /// The kind a correction's replacement value for `key` must have: that of the first type that
    /// declares the field (the kinds of a shared field name agree across types).
    public static func replacementKind(_ key: FieldKey) -> Kind? {
        switch key {
        case .target, .set: return nil
        default:
            for case let s? in specs { if let f = s.fields.first(where: { $0.key == key }) { return f.kind } }
            return nil
        }
    }
}
