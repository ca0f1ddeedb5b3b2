/// A small open-addressing map from event id to sequence, for the ids of one commit.
///
/// Event ids are random, so their bits are already a good hash; `Dictionary` would run SipHash
/// over every id, which cost more than the rest of duplicate detection together.
struct IDTable {
    private var keys: [UUID128]
    private var values: [UInt64]
    private var used: [Bool]
    private let mask: Int
    private(set) var count = 0

    /// Room for `capacity` ids at a load factor of at most one half.
    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: UUID128(high: 0, low: 0), count: size)
        values = Array(repeating: 0, count: size)
        used = Array(repeating: false, count: size)
        mask = size - 1
    }

    @inline(__always)
    private func slot(_ id: UUID128) -> Int {
        // Fibonacci hashing of both halves: version bits and counters in either half still spread.
        Int(truncatingIfNeeded: ((id.high ^ id.low &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9) >> 32) & mask
    }

    subscript(id: UUID128) -> UInt64? {
        var i = slot(id)
        while used[i] {
            if keys[i] == id { return values[i] }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Inserts or replaces. The caller sized the table; inserting beyond `capacity` is a bug.
    mutating func set(_ id: UUID128, _ value: UInt64) {
        precondition(count * 2 < keys.count, "IDTable over capacity")
        var i = slot(id)
        while used[i] {
            if keys[i] == id {
                values[i] = value
                return
            }
            i = (i + 1) & mask
        }
        used[i] = true
        keys[i] = id
        values[i] = value
        count += 1
    }
}
