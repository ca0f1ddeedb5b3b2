/// A tenant's name: 1–64 characters of `a-z 0-9 _ -`, starting with a letter or digit.
///
/// The name is also the tenant's directory name, which is why it is this strict.
public struct TenantID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; nil when it is not a valid tenant name.
    public init?(_ rawValue: String) {
        guard rawValue.withUTF8Bytes({ TenantID.isValid(UnsafeRawBufferPointer($0)) }) else { return nil }
        self.rawValue = rawValue
    }

    /// Validates the UTF-8 bytes of a name before making a string of them (the ingest path's
    /// case: a name per event). Iterating a `String`'s UTF-8 view went through the generic
    /// `enumerated()`, half a percent of the server's time at full load.
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard TenantID.isValid(bytes) else { return nil }
        rawValue = String(decoding: bytes, as: UTF8.self)
    }

    private static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard (1...64).contains(bytes.count) else { return false }
        for i in bytes.indices {
            switch bytes[i] {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "_") where i > 0, UInt8(ascii: "-") where i > 0: continue
            default: return false
            }
        }
        return true
    }

    public var description: String { rawValue }
    public static func < (a: TenantID, b: TenantID) -> Bool { a.rawValue < b.rawValue }
}
