/// Reusable room for encoding one value at a time through a `ByteCursor` — a timeline record,
/// an event's canonical form for its hash — kept by whoever encodes many in a row (a projector,
/// a tenant's log). Encoding into it and then copying once costs a fraction of appending a
/// value's fields to an array one by one, and, unlike a temporary allocation, needs no closure
/// (which would copy what it captures).
final class EncodingScratch {
    private var pointer: UnsafeMutableRawPointer
    private var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        pointer = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { pointer.deallocate() }

    /// At least `count` bytes of room; what an earlier call returned is no longer valid.
    func room(_ count: Int) -> UnsafeMutableRawPointer {
        if count > capacity {
            pointer.deallocate()
            capacity = max(count, 2 * capacity)
            pointer = .allocate(byteCount: capacity, alignment: 8)
        }
        return pointer
    }
}
