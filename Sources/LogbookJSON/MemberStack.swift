/// Where an object key's text lies in the input, for keys whose text is exactly their input bytes.
struct KeySpan {
    var offset: Int
    /// The key's length in bytes, or -1 when the key has escapes or non-ASCII text (see `escapedOrNonASCII`).
    var length: Int

    /// The span of a key that must be compared as a `String`, and of every array element.
    static let escapedOrNonASCII = KeySpan(offset: 0, length: -1)

    var isVerbatimASCII: Bool {
        length >= 0
    }
}

/// A growable stack of object members (array elements use an empty key), owned by one ``Reader``.
///
/// Containers are built here and moved into an exactly sized array when they close, so parsing an object costs
/// one allocation for its members instead of a series of reallocations as an array grows, and no reference
/// counting traffic for the move. Beside each member it keeps the key's ``KeySpan`` for cheap duplicate checks.
struct MemberStack: ~Copyable {
    typealias Member = (key: String, value: JSONValue)

    /// Members that fit the first buffer live on the caller's stack; `grow()` moves them to the heap.
    static let initialCapacity = 16

    private var storage: UnsafeMutablePointer<Member>
    private var spans: UnsafeMutablePointer<KeySpan>
    private var capacity: Int
    /// Whether `storage` and `spans` were allocated by `grow()` rather than lent by the caller.
    private var ownsStorage = false
    private(set) var count = 0

    /// Creates an empty stack that starts in the caller's (typically stack-allocated) buffers.
    ///
    /// The buffers must outlive the stack and have equal, non-zero counts.
    init(initialStorage: UnsafeMutableBufferPointer<Member>, initialSpans: UnsafeMutableBufferPointer<KeySpan>) {
        storage = initialStorage.baseAddress.unsafelyUnwrapped
        spans = initialSpans.baseAddress.unsafelyUnwrapped
        capacity = Swift.min(initialStorage.count, initialSpans.count)
    }

    deinit {
        storage.deinitialize(count: count)
        if ownsStorage {
            storage.deallocate()
            spans.deallocate()
        }
    }

    @inline(__always)
    mutating func append(_ member: consuming Member, span: KeySpan) {
        if count == capacity {
            grow()
        }
        (storage + count).initialize(to: member)
        spans[count] = span
        count += 1
    }

    /// Fills in the value of the member pushed last (whose value was a placeholder while it was being parsed).
    @inline(__always)
    mutating func setLastValue(_ value: consuming JSONValue) {
        assert(count > 0, "an object's pending member is pushed before its value is parsed")
        storage[count - 1].value = value
    }

    /// Whether a member from `start` up has a key equal to `key` (see `Reader.rejectDuplicate`).
    ///
    /// - Parameter input: The start of the input that the spans index.
    func containsKey(_ key: String, span: KeySpan, from start: Int, input: UnsafeRawPointer) -> Bool {
        for index in start..<count {
            let other = spans[index]
            if span.isVerbatimASCII, other.isVerbatimASCII {
                if span.length == other.length,
                    Self.bytesEqual(input + span.offset, input + other.offset, count: span.length)
                {
                    return true
                }
            } else if storage[index].key == key {
                return true
            }
        }
        return false
    }

    @inline(__always)
    private static func bytesEqual(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, count: Int) -> Bool {
        for offset in 0..<count
        where lhs.load(fromByteOffset: offset, as: UInt8.self) != rhs.load(fromByteOffset: offset, as: UInt8.self) {
            return false
        }
        return true
    }

    func keys(from start: Int) -> Set<String> {
        var keys = Set<String>(minimumCapacity: (count - start) * 2)
        for index in start..<count {
            keys.insert(storage[index].key)
        }
        return keys
    }

    // The pops below reserve and append rather than use `Array(unsafeUninitializedCapacity:)`: on Linux the
    // latter ends up in an unspecialised standard-library initialiser that looks up the array's generic
    // metadata on every call, which cost about 5% of parsing an event.

    /// Moves the members from `start` to the top into a new array and pops them.
    mutating func popMembers(from start: Int) -> [Member] {
        var result: [Member] = []
        result.reserveCapacity(count - start)
        for index in start..<count {
            result.append((storage + index).move())
        }
        count = start
        return result
    }

    /// Moves the values of the elements from `start` to the top into a new array and pops them.
    mutating func popValues(from start: Int) -> [JSONValue] {
        var result: [JSONValue] = []
        result.reserveCapacity(count - start)
        for index in start..<count {
            result.append((storage + index).move().value)
        }
        count = start
        return result
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let newStorage = UnsafeMutablePointer<Member>.allocate(capacity: newCapacity)
        let newSpans = UnsafeMutablePointer<KeySpan>.allocate(capacity: newCapacity)
        newStorage.moveInitialize(from: storage, count: count)
        newSpans.moveInitialize(from: spans, count: count)
        if ownsStorage {
            storage.deallocate()
            spans.deallocate()
        }
        storage = newStorage
        spans = newSpans
        capacity = newCapacity
        ownsStorage = true
    }
}
