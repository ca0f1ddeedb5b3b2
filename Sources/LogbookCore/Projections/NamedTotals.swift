/// Sums per name — app, category or project — for one day's figures.
///
/// A day has a handful of names, and its events' strings mostly share storage (one block's
/// string table), so a linear search, whose comparisons stop at identical storage, beats
/// `Dictionary`, which ran SipHash over every name of every event. Past `searchLimit` names
/// an index takes over, so adversarial data cannot make each event cost a long search.
struct NamedTotals: Sendable {
    private(set) var names: [String] = []
    private(set) var values: [Int64] = []
    private var index: [String: Int]?

    static let searchLimit = 32

    init() {}

    init(_ dictionary: [String: Int64]) {
        for (name, value) in dictionary { add(name, value) }
    }

    var count: Int { names.count }

    private func position(_ name: String) -> Int? {
        if let index { return index[name] }
        return names.firstIndex(of: name)
    }

    subscript(name: String) -> Int64? { position(name).map { values[$0] } }

    /// Where the last `add` went: a user's samples mostly repeat the previous one's app.
    private var lastAdded = 0

    /// Adds `value` to `name`'s sum, starting it at 0.
    mutating func add(_ name: String, _ value: Int64) {
        if lastAdded < names.count, names[lastAdded] == name {
            values[lastAdded] += value
            return
        }
        if let i = position(name) {
            values[i] += value
            lastAdded = i
            return
        }
        lastAdded = names.count
        names.append(name)
        values.append(value)
        if index != nil {
            index![name] = names.count - 1
        } else if names.count > NamedTotals.searchLimit {
            index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        }
    }

    /// Takes `value` out of `name`'s sum, dropping the name at 0; false when the sum is smaller
    /// (or absent), and then nothing changes.
    mutating func take(_ name: String, _ value: Int64) -> Bool {
        guard let i = position(name), values[i] >= value else { return false }
        if values[i] > value {
            values[i] -= value
            return true
        }
        // Swap with the last, so the arrays stay dense; order carries no meaning.
        let last = names.count - 1
        if i != last {
            names.swapAt(i, last)
            values.swapAt(i, last)
            index?[names[i]] = i
        }
        index?[names[last]] = nil
        names.removeLast()
        values.removeLast()
        return true
    }

    var dictionary: [String: Int64] {
        Dictionary(uniqueKeysWithValues: zip(names, values))
    }

    /// The sums sorted by name's UTF-8 bytes: the stored order, so equal totals encode equally.
    var sorted: [(name: String, value: Int64)] {
        zip(names, values).sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }.map { ($0.0, $0.1) }
    }
}

extension NamedTotals: Equatable {
    /// Equal sums per name, in any order.
    static func == (a: NamedTotals, b: NamedTotals) -> Bool {
        a.count == b.count && zip(a.names, a.values).allSatisfy { b[$0.0] == $0.1 }
    }
}
