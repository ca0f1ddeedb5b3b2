/// What happened to one appended event.
public enum AppendOutcome: Sendable, Hashable {
    /// Stored under this sequence number; durable when the append returned.
    case appended(sequence: UInt64)
    /// An event with the same id was already stored (or earlier in the same batch) under this
    /// sequence; nothing was written.
    case duplicate(sequence: UInt64)
    /// Not stored, because of the tenant's state when its batch committed.
    case refused(Refusal)

    /// Why the log refused a valid event: a code for programs, the field it concerns, and a
    /// sentence for people (never a value from the event).
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Code: String, Sendable, Hashable {
            /// Its user was deactivated by an event committed earlier (`user.deactivated`); only
            /// admin events (user.*, team.*, settings, overrides, corrections) still concern them.
            case userDeactivated = "user_deactivated"
            /// A correction or retraction names an event the tenant does not have.
            case correctionTargetNotFound = "correction_target_not_found"
            /// A correction or retraction names an event about another user (or about nobody).
            case correctionSubjectMismatch = "correction_subject_mismatch"
            /// The corrected (or again retracted) event was retracted.
            case correctionTargetRetracted = "correction_target_retracted"
            /// A correction replaces a field the corrected event's type does not have.
            case correctionFieldNotInType = "correction_field_not_in_type"
        }

        public var code: Code
        /// The field concerned, in wire form (`user`, `data.target`, `data.set.title`).
        public var field: String
        public var detail: String

        public init(_ code: Code, field: String, _ detail: String) {
            self.code = code
            self.field = field
            self.detail = detail
        }

        public static let userDeactivated = Refusal(.userDeactivated, field: "user", "the user is deactivated")

        public var description: String { "\(code.rawValue) (\(field)): \(detail)" }
    }

    /// The event's sequence; nil when it was refused.
    public var sequence: UInt64? {
        switch self {
        case .appended(let s), .duplicate(let s): s
        case .refused: nil
        }
    }

    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }
}
