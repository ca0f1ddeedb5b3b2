/// Every payload field name the catalogue knows. The raw value is the stored field code:
/// never renumber, only append.
public enum FieldKey: UInt8, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case app = 1, title, url, status, note, report, project, task, start, end, billable
    case assignee, due, from, to, comment, text, entity, tag, name, size, contentType, sha256
    case viewer, action, email, role, manager, reason, key, value, eventClass, days, target, set

    /// The wire name (snake_case).
    public var name: String { FieldKey.names[Int(rawValue)] }

    private static let names: [String] = [
        "", "app", "title", "url", "status", "note", "report", "project", "task", "start", "end", "billable",
        "assignee", "due", "from", "to", "comment", "text", "entity", "tag", "name", "size", "content_type", "sha256",
        "viewer", "action", "email", "role", "manager", "reason", "key", "value", "class", "days", "target", "set",
    ]

    public var description: String { name }

    public static func < (a: FieldKey, b: FieldKey) -> Bool { a.rawValue < b.rawValue }

    private static let byName: [String: FieldKey] = Dictionary(
        uniqueKeysWithValues: FieldKey.allCases.map { ($0.name, $0) })

    public init?(name: String) {
        guard let k = FieldKey.byName[name] else { return nil }
        self = k
    }
}

/// A payload value. The catalogue decides which case each field takes.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case uuid(UUID128)
    case time(Timestamp)
    /// Field/value pairs, ordered by key (the `set` of `event.corrected`).
    case fields([Field])
}

/// One payload field.
public struct Field: Sendable, Hashable {
    public var key: FieldKey
    public var value: Value
    public init(_ key: FieldKey, _ value: Value) {
        self.key = key
        self.value = value
    }
}

extension [Field] {
    /// The value of field `key`, if present (a payload holds each key at most once).
    func value(of key: FieldKey) -> Value? { first { $0.key == key }?.value }
}

extension Value {
    /// The first UTF-8 byte of a string value (0 for anything else), read in place.
    @inline(__always)
    var firstStringByte: UInt8 {
        guard case .string(let s) = self else { return 0 }
        return s.utf8.first ?? 0
    }
}
