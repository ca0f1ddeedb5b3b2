import Foundation

/// The tenants named by many lines (a file part, a request body), in order of first
/// appearance, each name checked and made into a `TenantID` once
/// (`EventValidator.validate(line:into:tenants:)`).
///
/// A file's lines interleave their tenants, so each line's name is looked up afresh: by its
/// bytes, under a fast hash (`TableStrings.hash`, `HashSlots`), about 250 instructions a line.
/// Making a `TenantID` per line (a `String`) and finding it in a `Dictionary` (SipHash) had
/// cost about 850, a tenth of parsing the line.
public struct TenantNames {
    /// The tenants, in order of first appearance; a line's tenant is an index into it.
    public private(set) var names: [TenantID] = []
    /// Each name's UTF-8 bytes, for comparing a line's name with.
    private var bytes: [[UInt8]] = []
    private var index = HashSlots(capacity: 0)

    public init() {}

    /// The index of the tenant named by `utf8`, added if new; nil when it is not a valid name.
    public mutating func index(utf8 name: UnsafeRawBufferPointer) -> Int? {
        let h = TableStrings.hash(name)
        let (found, slot) = index.find(h) { bytes[$0].equals(name) }
        if let found { return found }
        guard let tenant = TenantID(utf8: name) else { return nil }
        names.append(tenant)
        bytes.append(Array(name))
        return index.insert(h, at: slot)
    }

    /// The index of `tenant`, added if new.
    public mutating func index(of tenant: TenantID) -> Int {
        var name = tenant.rawValue
        return name.withUTF8 { index(utf8: UnsafeRawBufferPointer($0))! }
    }
}
