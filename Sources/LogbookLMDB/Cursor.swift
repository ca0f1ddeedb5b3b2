internal import CLogbookLMDB

/// A position in a database. Keys and values it yields are valid until the transaction ends.
public struct Cursor: ~Copyable {
    let cursor: OpaquePointer

    init(txn: OpaquePointer, db: Database) throws(LMDBError) {
        var c: OpaquePointer?
        try check(mdb_cursor_open(txn, db.dbi, &c), "mdb_cursor_open")
        cursor = c!
    }

    deinit { mdb_cursor_close(cursor) }

    /// One entry; both buffers point into the memory map.
    public struct Entry {
        public var key: UnsafeRawBufferPointer
        public var value: UnsafeRawBufferPointer
    }

    private mutating func op(
        _ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil,
        value: UnsafeRawBufferPointer? = nil
    ) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val(mv_size: value?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: value?.baseAddress))
        let rc = mdb_cursor_get(cursor, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get")
        return Entry(
            key: UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            value: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    public mutating func first() throws(LMDBError) -> Entry? { try op(MDB_FIRST) }
    public mutating func last() throws(LMDBError) -> Entry? { try op(MDB_LAST) }
    public mutating func next() throws(LMDBError) -> Entry? { try op(MDB_NEXT) }
    public mutating func previous() throws(LMDBError) -> Entry? { try op(MDB_PREV) }
    /// The first entry whose key is greater than or equal to `key`.
    public mutating func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
        try op(MDB_SET_RANGE, key: key)
    }
    /// Duplicate-sorted databases: the first value of `key` that is at least `value`.
    public mutating func seek(
        key: UnsafeRawBufferPointer, valueAtLeast value: UnsafeRawBufferPointer
    )
        throws(LMDBError) -> Entry?
    {
        try op(MDB_GET_BOTH_RANGE, key: key, value: value)
    }
    /// Duplicate-sorted databases: the next value of the current key.
    public mutating func nextDuplicate() throws(LMDBError) -> Entry? { try op(MDB_NEXT_DUP) }
}

@available(*, unavailable, message: "an LMDB cursor belongs to its transaction")
extension Cursor: Sendable {}
