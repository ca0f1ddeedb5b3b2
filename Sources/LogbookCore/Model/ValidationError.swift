/// Why an event was refused. Names the field; never echoes the value (it may be personal data).
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of rule was broken. Extensible: new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        public static let invalidJSON = Code(name: "invalid_json")
        public static let notAnObject = Code(name: "not_an_object")
        public static let unknownType = Code(name: "unknown_type")
        public static let unknownField = Code(name: "unknown_field")
        public static let missingField = Code(name: "missing_field")
        public static let wrongType = Code(name: "wrong_type")
        public static let tooLong = Code(name: "too_long")
        public static let invalidValue = Code(name: "invalid_value")
        public static let negativeDuration = Code(name: "negative_duration")
        public static let timestampInFuture = Code(name: "timestamp_in_future")
        public static let tenantMismatch = Code(name: "tenant_mismatch")
    }

    public var code: Code
    /// The offending field as a path, e.g. `data.title`; empty for the event as a whole.
    public var field: String
    /// A sentence saying what is wrong and what is accepted.
    public var message: String

    public init(_ code: Code, field: String, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? "\(code): \(message)" : "\(code) at \(field): \(message)" }
}
