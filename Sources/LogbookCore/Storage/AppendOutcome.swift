/// What happened to one appended event.
public enum AppendOutcome: Sendable, Hashable {
    /// Stored under this sequence number; durable when the append returned.
    case appended(sequence: UInt64)
    /// An event with the same id was already stored (or earlier in the same batch) under this
    /// sequence; nothing was written.
    case duplicate(sequence: UInt64)
    /// Not stored, because of the tenant's state when its batch committed.
    case refused(Refusal)

    /// Why the log refused a valid event.
    public enum Refusal: String, Sendable, Hashable {
        /// Its user was deactivated by an event committed earlier (`user.deactivated`); only
        /// admin events (user.*, team.*, settings, overrides, corrections) still concern them.
        case userDeactivated = "user_deactivated"
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
