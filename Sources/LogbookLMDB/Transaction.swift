internal import CLogbookLMDB

/// What read and write transactions share: lookups and cursors.
///
/// Values handed to closures point into LMDB's memory map and are valid only until the
/// transaction ends, which is why they are lent, never returned.
public protocol Transaction: ~Copyable {
    var pointer: OpaquePointer { get }
}

/// A read-only snapshot. Ended (`mdb_txn_abort`) when it goes out of scope.
public struct ReadTransaction: Transaction, ~Copyable {
    public let pointer: OpaquePointer

    init(env: OpaquePointer) throws(LMDBError) {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read)")
        pointer = txn!
    }

    deinit { mdb_txn_abort(pointer) }
}

/// A write transaction; committed or aborted exactly once.
public struct WriteTransaction: Transaction, ~Copyable {
    public let pointer: OpaquePointer

    init(env: OpaquePointer, flags: UInt32 = 0) throws(LMDBError) {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, flags, &txn), "mdb_txn_begin(write)")
        pointer = txn!
    }

    /// Commits; durable on return unless the environment has sync disabled.
    /// lmdb.h: the transaction handle is freed whether or not the commit succeeds.
    consuming func commit() throws(LMDBError) {
        let txn = pointer
        discard self
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    consuming func abort() {
        let txn = pointer
        discard self
        mdb_txn_abort(txn)
    }

    deinit { mdb_txn_abort(pointer) }

    /// Opens or creates a named database.
    public func openDatabase(_ name: String, flags: Database.Flags) throws(LMDBError) -> Database {
        var dbi: MDB_dbi = 0
        try check(mdb_dbi_open(pointer, name, flags.rawValue, &dbi), "mdb_dbi_open")
        return Database(dbi: dbi)
    }

    /// Options for `put`.
    public struct PutFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Fail with `MDB_KEYEXIST` when the key exists.
        public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
        /// The key sorts after every existing key (`MDB_KEYEXIST` otherwise): a fast append.
        public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
        /// For duplicate-sorted databases: do not add a value that is already there.
        public static let noDuplicateData = PutFlags(rawValue: UInt32(MDB_NODUPDATA))
    }

    /// Stores `value` under `key`.
    public func put(
        _ db: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: PutFlags = []
    ) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(pointer, db.dbi, &k, &v, flags.rawValue), "mdb_put")
    }

    /// Reserves `size` bytes under `key` and lets `fill` write them in place (`MDB_RESERVE`),
    /// saving a copy of large values.
    public func reserve<E: Error>(
        _ db: Database, key: UnsafeRawBufferPointer, size: Int, flags: PutFlags = [],
        _ fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws -> Void {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        try check(mdb_put(pointer, db.dbi, &k, &v, flags.rawValue | UInt32(MDB_RESERVE)), "mdb_put(reserve)")
        try fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    /// Deletes `key` (all its values in a duplicate-sorted database). Returns false when absent.
    @discardableResult
    public func delete(_ db: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(pointer, db.dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del")
        return true
    }

    /// Removes every entry of `db`, keeping the database.
    public func clear(_ db: Database) throws(LMDBError) {
        try check(mdb_drop(pointer, db.dbi, 0), "mdb_drop")
    }
}

extension Transaction where Self: ~Copyable {
    /// Looks `key` up and lends the value (nil when absent) to `body`.
    public func get<R, E: Error>(
        _ db: Database, key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws(E) -> R
    ) throws -> R {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(pointer, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return try body(nil) }
        try check(rc, "mdb_get")
        return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// Opens a cursor on `db` for the duration of `body`.
    public func withCursor<R, E: Error>(_ db: Database, _ body: (inout Cursor) throws(E) -> R) throws -> R {
        var cursor = try Cursor(txn: pointer, db: db)
        return try body(&cursor)
    }

    /// Number of entries in `db`.
    public func count(_ db: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(pointer, db.dbi, &stat), "mdb_stat")
        return Int(stat.ms_entries)
    }
}

@available(*, unavailable, message: "LMDB transactions belong to the thread or task that began them")
extension ReadTransaction: Sendable {}
@available(*, unavailable, message: "LMDB write transactions belong to the thread that began them")
extension WriteTransaction: Sendable {}
