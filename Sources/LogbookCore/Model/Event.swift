/// One fact in a tenant's log, in the v1 envelope.
///
/// `sequence` and `recordedAt` are assigned by the log when the event is appended; before that
/// they are 0. Everything else comes from the client and has passed `EventValidator`.
public struct Event: Sendable, Hashable {
    /// Position in the tenant's log: dense, from 1, never reused.
    public var sequence: UInt64
    /// The client's id for the event; appending the same id again is a no-op.
    public var id: EventID
    public var type: EventType
    /// The person the event is about (`user` on the wire); nil only for tenant-wide types.
    public var subject: UserID?
    /// Who emitted it when not the subject's own agent: `agent:<device>` or a user id.
    public var actor: String?
    /// The client's clock (`ts` on the wire).
    public var occurredAt: Timestamp
    /// The server's clock at commit; never decreases within a tenant.
    public var recordedAt: Timestamp
    /// Microseconds, for types that have a duration.
    public var duration: Int64?
    /// Payload fields in catalogue order.
    public var data: [Field]

    public init(
        sequence: UInt64 = 0, id: EventID, type: EventType, subject: UserID?, actor: String? = nil,
        occurredAt: Timestamp, recordedAt: Timestamp = Timestamp(microseconds: 0), duration: Int64? = nil,
        data: [Field]
    ) {
        self.sequence = sequence
        self.id = id
        self.type = type
        self.subject = subject
        self.actor = actor
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.duration = duration
        self.data = data
    }

    /// The value of payload field `key`, if present.
    public subscript(key: FieldKey) -> Value? {
        data.value(of: key)
    }
}
