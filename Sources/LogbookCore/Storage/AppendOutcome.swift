/// What happened to one appended event.
public enum AppendOutcome: Sendable, Hashable {
    /// Stored under this sequence number; durable when the append returned.
    case appended(sequence: UInt64)
    /// An event with the same id was already stored (or earlier in the same batch) under this
    /// sequence; nothing was written.
    case duplicate(sequence: UInt64)

    public var sequence: UInt64 {
        switch self {
        case .appended(let s), .duplicate(let s): s
        }
    }

    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }
}
