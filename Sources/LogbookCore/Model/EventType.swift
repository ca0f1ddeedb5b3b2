/// The event catalogue v1 (specs/events.md). The raw value is the stored type code: never
/// renumber, only append.
public enum EventType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case activityWindow = 1
    case activityAFK = 2
    case attendanceClockIn = 3
    case attendanceClockOut = 4
    case timeEntryRecorded = 5
    case taskCreated = 6
    case taskUpdated = 7
    case taskStatusChanged = 8
    case commentAdded = 9
    case tagAdded = 10
    case tagRemoved = 11
    case attachmentAdded = 12
    case viewerChanged = 13
    case userInvited = 14
    case userRoleChanged = 15
    case userDeactivated = 16
    case userReactivated = 17
    case teamMemberAdded = 18
    case teamMemberRemoved = 19
    case settingsChanged = 20
    case overrideApplied = 21
    case retentionPolicySet = 22
    case eventCorrected = 23
    case eventRetracted = 24

    /// The wire name, e.g. `activity.window`.
    public var name: String {
        switch self {
        case .activityWindow: "activity.window"
        case .activityAFK: "activity.afk"
        case .attendanceClockIn: "attendance.clock_in"
        case .attendanceClockOut: "attendance.clock_out"
        case .timeEntryRecorded: "time_entry.recorded"
        case .taskCreated: "task.created"
        case .taskUpdated: "task.updated"
        case .taskStatusChanged: "task.status_changed"
        case .commentAdded: "comment.added"
        case .tagAdded: "tag.added"
        case .tagRemoved: "tag.removed"
        case .attachmentAdded: "attachment.added"
        case .viewerChanged: "viewer.changed"
        case .userInvited: "user.invited"
        case .userRoleChanged: "user.role_changed"
        case .userDeactivated: "user.deactivated"
        case .userReactivated: "user.reactivated"
        case .teamMemberAdded: "team.member_added"
        case .teamMemberRemoved: "team.member_removed"
        case .settingsChanged: "settings.changed"
        case .overrideApplied: "override.applied"
        case .retentionPolicySet: "retention.policy_set"
        case .eventCorrected: "event.corrected"
        case .eventRetracted: "event.retracted"
        }
    }

    public var description: String { name }

    private static let byName: [String: EventType] = Dictionary(
        uniqueKeysWithValues: EventType.allCases.map { ($0.name, $0) })

    /// Looks a wire name up; nil for names outside the catalogue.
    public init?(name: String) {
        guard let t = EventType.byName[name] else { return nil }
        self = t
    }
}
