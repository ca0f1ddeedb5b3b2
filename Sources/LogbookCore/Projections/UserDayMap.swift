/// A user and a day number (daily aggregates) or a chunk number (timeline chunks): what the
/// projector's state is keyed by.
struct UserDay: Equatable {
    var user: UserID
    var day: Int32

    /// Orders keys as their storage bytes do (a user id's bytes are its big-endian halves), so
    /// that a flush writes in B-tree order.
    static func storageOrder(_ a: UserDay, _ b: UserDay) -> Bool {
        (a.user.high, a.user.low, UInt32(bitPattern: a.day)) < (b.user.high, b.user.low, UInt32(bitPattern: b.day))
    }
}

/// The projector's in-memory state for one batch: values by (user, day), in insertion order.
///
/// An open-addressing table over a multiply-xorshift mix of the key, seeded per process: with
/// `Dictionary`, SipHash over every key, run four or five times per event, was a tenth of a
/// rebuild. A tenant's clients choose its user ids, so crafted collisions could at worst slow
/// that tenant's own projections; the seed makes even that impractical.
struct UserDayMap<Value> {
    private(set) var keys: [UserDay] = []
    private(set) var values: [Value] = []
    /// 1 + index into `keys`, 0 when empty; a power of two, at most half full.
    private var slots: [Int32] = Array(repeating: 0, count: 64)

    private static var seed: UInt64 { userDayMapSeed }

    var count: Int { keys.count }

    @inline(__always)
    private func start(_ key: UserDay) -> Int {
        var h = (key.user.high ^ UserDayMap.seed) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ key.user.low ^ UInt64(UInt32(bitPattern: key.day))) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: h ^ (h >> 29)) & (slots.count - 1)
    }

    /// The index of `key`'s value, if present.
    func index(of key: UserDay) -> Int? {
        var slot = start(key)
        while slots[slot] != 0 {
            let i = Int(slots[slot]) - 1
            if keys[i] == key { return i }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Adds `value` under `key`, which must not be present; returns its index.
    @discardableResult
    mutating func append(_ key: UserDay, _ value: Value) -> Int {
        var slot = start(key)
        while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
        let i = keys.count
        slots[slot] = Int32(i + 1)
        keys.append(key)
        values.append(value)
        if keys.count * 2 > slots.count { grow() }
        return i
    }

    /// The value at `index`, read and modified in place.
    subscript(index: Int) -> Value {
        get { values[index] }
        _modify { yield &values[index] }
        set { values[index] = newValue }
    }

    /// Indexes in the order of the keys' storage bytes.
    func indexesInStorageOrder() -> [Int] {
        keys.indices.sorted { UserDay.storageOrder(keys[$0], keys[$1]) }
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        for (i, key) in keys.enumerated() {
            var slot = start(key)
            while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = Int32(i + 1)
        }
    }
}

private let userDayMapSeed = UInt64.random(in: 0...UInt64.max)
