import Foundation

/// The tenants named by many lines (a file part, a request body), in order of first
/// appearance, each name checked and made into a `TenantID` once
/// (`EventValidator.validate(line:into:tenants:)`).
///
/// A file's lines interleave their tenants, so each line's name is looked up afresh: by its
/// bytes, in an open-addressing table over a fast hash (`TableStrings.hash`), about 250
/// instructions a line. Making a `TenantID` per line (a `String`) and finding it in a
/// `Dictionary` (SipHash) had cost about 850, a tenth of parsing the line.
public struct TenantNames {
    /// The tenants, in order of first appearance; a line's tenant is an index into it.
    public private(set) var names: [TenantID] = []
    /// Each name's bytes, one after another; name `i` ends at `ends[i]`.
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var hashes: [UInt64] = []
    /// Open-addressing slots: 1 + index of a name, 0 when empty.
    private var slots = [Int32](repeating: 0, count: 64)

    public init() {}

    /// The index of the tenant named by `utf8`, added if new; nil when it is not a valid name.
    public mutating func index(utf8 name: UnsafeRawBufferPointer) -> Int? {
        let h = TableStrings.hash(name)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 {
            let i = Int(slots[slot]) - 1
            if hashes[i] == h && equals(i, name) { return i }
            slot = (slot + 1) & mask
        }
        guard let tenant = TenantID(utf8: name) else { return nil }
        return add(tenant, bytes: name, hash: h, slot: slot)
    }

    /// The index of `tenant`, added if new.
    public mutating func index(of tenant: TenantID) -> Int {
        var name = tenant.rawValue
        return name.withUTF8 { index(utf8: UnsafeRawBufferPointer($0))! }
    }

    private func equals(_ i: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        let start = i == 0 ? 0 : ends[i - 1]
        guard ends[i] - start == name.count else { return false }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress! + start, name.baseAddress!, name.count) == 0 }
    }

    private mutating func add(
        _ tenant: TenantID, bytes name: UnsafeRawBufferPointer, hash h: UInt64, slot: Int
    )
        -> Int
    {
        let i = names.count
        names.append(tenant)
        bytes.append(contentsOf: name)
        ends.append(bytes.count)
        hashes.append(h)
        slots[slot] = Int32(i + 1)
        if names.count * 2 > slots.count {
            slots = [Int32](repeating: 0, count: slots.count * 2)
            let mask = slots.count - 1
            for (k, h) in hashes.enumerated() {
                var s = Int(truncatingIfNeeded: h) & mask
                while slots[s] != 0 { s = (s + 1) & mask }
                slots[s] = Int32(k + 1)
            }
        }
        return i
    }
}
