/// A parsed JSON document, or one being built for ``JSONWriter``.
///
/// Numbers are split into ``integer(_:)`` and ``double(_:)`` so that identifiers, counters and sequence numbers
/// survive exactly: a `Double` loses integers above 2^53, and event data is full of them.
public enum JSONValue: Sendable, Equatable {
    /// The JSON literal `null`.
    case null
    /// The JSON literals `true` and `false`.
    case bool(Bool)
    /// A number written without fraction or exponent whose value fits `Int64`.
    case integer(Int64)
    /// Any other finite number: one with a fraction or exponent, or an integer too large for `Int64`.
    case double(Double)
    /// A string, with escapes decoded.
    case string(String)
    /// An array, in document order.
    case array([JSONValue])
    /// An object, with members in document order.
    case object(JSONObject)
}

/// A JSON object that keeps its members in document order.
///
/// Event objects are small (a handful of keys), so a flat array with linear lookup is faster and lighter than a
/// dictionary, and it preserves the order in which the producer wrote the keys, which makes re-serialisation
/// reproducible.
public struct JSONObject: Sendable, Equatable {
    /// The members in document order.
    ///
    /// Documents produced by ``JSONParser`` never repeat a key; a value built by hand may, in which case
    /// ``subscript(_:)`` sees only the first occurrence.
    public var members: [(key: String, value: JSONValue)]

    /// Creates an object from members in the order they should be written.
    ///
    /// - Parameter members: The key–value pairs, in order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value of the first member named `key`, or `nil` when there is none.
    ///
    /// Keys compare with `String` equality (Unicode canonical equivalence), the same rule the parser uses to
    /// reject duplicates, so a key that is found here is the only one that could match.
    ///
    /// - Complexity: O(*n*) in the number of members; objects here are expected to be small.
    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }

    /// The number of members.
    public var count: Int {
        members.count
    }

    /// Two objects are equal when they have equal members in the same order.
    ///
    /// Order counts because it is observable, through ``members`` and through the bytes ``JSONWriter`` produces;
    /// `Equatable` promises that equal values are interchangeable. Tuples cannot conform to `Equatable`, which is
    /// why this is written out rather than synthesised.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else {
            return false
        }
        for (left, right) in zip(lhs.members, rhs.members) where left.key != right.key || left.value != right.value {
            return false
        }
        return true
    }
}
