/// Open-addressing slots over the 64-bit hashes of a table's entries, which the table keeps
/// itself (`TableBytes`, `TenantNames`): linear probing, never more than half full.
///
/// For byte strings looked up once or more per event, where `Dictionary` would make a `String`
/// or an `Array` of each and hash it with SipHash.
struct HashSlots {
    private var hashes: [UInt64] = []
    /// 1 + the index of an entry, 0 when empty; a power of two of them.
    private var slots: [Int32]

    /// Room for `capacity` entries before the slots grow.
    init(capacity: Int) {
        var size = 64
        while size < 2 * capacity { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        hashes.reserveCapacity(capacity)
    }

    /// The entry of hash `h` for which `matches` holds, if any, and otherwise the empty slot
    /// where it goes (for `insert`).
    @inline(__always)
    func find(_ h: UInt64, _ matches: (Int) -> Bool) -> (entry: Int?, slot: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 {
            let i = Int(slots[slot]) - 1
            if hashes[i] == h && matches(i) { return (i, slot) }
            slot = (slot + 1) & mask
        }
        return (nil, slot)
    }

    /// Records the next entry, of hash `h`, in `slot` as `find` answered it; its index.
    @inline(__always)
    mutating func insert(_ h: UInt64, at slot: Int) -> Int {
        let i = hashes.count
        hashes.append(h)
        slots[slot] = Int32(i + 1)
        if hashes.count * 2 > slots.count { grow() }
        return i
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (i, h) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(i + 1)
        }
    }
}
