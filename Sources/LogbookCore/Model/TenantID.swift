/// A tenant's name: 1–64 characters of `a-z 0-9 _ -`, starting with a letter or digit.
///
/// The name is also the tenant's directory name, which is why it is this strict.
public struct TenantID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; nil when it is not a valid tenant name.
    public init?(_ rawValue: String) {
        let bytes = rawValue.utf8
        guard (1...64).contains(bytes.count) else { return nil }
        for (i, c) in bytes.enumerated() {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "_") where i > 0, UInt8(ascii: "-") where i > 0: continue
            default: return nil
            }
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
    public static func < (a: TenantID, b: TenantID) -> Bool { a.rawValue < b.rawValue }
}
