internal import CLogbookLMDB
import Synchronization

/// One LMDB environment: a directory holding `data.mdb` and `lock.mdb`.
///
/// `@unchecked Sendable`: lmdb.h says an `MDB_env` may be shared by threads; with `MDB_NOTLS`
/// read transactions are not tied to threads either. Write transactions are serialised by
/// LMDB's own writer mutex; callers keep to one writer per environment anyway (see `write`).
public final class Environment: @unchecked Sendable {
    /// Settings applied when the environment is opened.
    public struct Options: Sendable {
        /// Upper bound of the environment's size. Virtual address space only: the file grows as
        /// pages are used, so a generous value costs nothing until it is reached.
        public var mapSize: Int = 1 << 34
        /// Named databases the environment can hold.
        public var maxDatabases: UInt32 = 16
        /// Concurrent read transactions.
        public var maxReaders: UInt32 = 126
        /// Unix permissions of the files LMDB creates.
        public var fileMode: UInt32 = 0o600
        /// Open without write access.
        public var readOnly: Bool = false
        /// Do not fsync on commit (`MDB_NOSYNC`): a crash may lose committed transactions.
        /// For tests and scratch data only.
        public var noSync: Bool = false
        public init() {}
    }

    let env: OpaquePointer
    /// The directory the environment lives in.
    public let path: String

    /// Opens (creating if needed) the environment in `path`, which must exist.
    ///
    /// - Throws: `LMDBError` when the files cannot be opened or are not an LMDB environment.
    public init(path: String, options: Options = Options()) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: MDB_PANIC, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_mapsize(env, options.mapSize), "mdb_env_set_mapsize")
            try check(mdb_env_set_maxdbs(env, options.maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, options.maxReaders), "mdb_env_set_maxreaders")
            // NOTLS: read transactions are used from Swift tasks that hop between threads.
            // NORDAHEAD: blocks are read by key, readahead only pollutes the page cache.
            var flags = UInt32(MDB_NOTLS | MDB_NORDAHEAD)
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            if options.noSync { flags |= UInt32(MDB_NOSYNC) }
            try check(mdb_env_open(env, path, flags, mdb_mode_t(options.fileMode)), "mdb_env_open")
        } catch {
            // lmdb.h: "If this function fails, mdb_env_close() must be called to discard the MDB_env handle."
            mdb_env_close(env)
            throw error
        }
        self.env = env
        self.path = path
    }

    deinit {
        mdb_env_close(env)
    }

    /// Opens a named database, creating it when `create` is set (needs a write transaction).
    public func openDatabase(_ name: String, flags: Database.Flags = []) throws(LMDBError) -> Database {
        let txn = try WriteTransaction(env: env)
        let db = try txn.openDatabase(name, flags: flags.union(.create))
        try txn.commit()
        return db
    }

    /// Runs `body` in a write transaction and commits it (durably, unless the environment is
    /// opened with sync disabled) when `body` returns; aborts it when `body` throws.
    ///
    /// LMDB allows one write transaction at a time per environment and it must stay on one
    /// thread, so this is synchronous: call it from the environment's single writer thread.
    ///
    /// `syncMeta: false` commits without flushing the meta page (LMDB's `MDB_NOMETASYNC`, which
    /// `mdb_txn_begin` takes per transaction): the data pages are flushed as usual, so the
    /// database keeps its integrity, but a system crash may undo this transaction. The next
    /// commit made with `syncMeta` (or `sync()`) makes it durable too. For derived state that
    /// is rebuilt from the log anyway, never for what was acknowledged.
    @available(*, noasync, message: "LMDB write transactions must stay on one thread; call from the writer thread")
    public func write<R, E: Error>(
        syncMeta: Bool = true, _ body: (inout WriteTransaction) throws(E) -> R
    ) throws -> R {
        var txn = try WriteTransaction(env: env, flags: syncMeta ? 0 : UInt32(MDB_NOMETASYNC))
        let result: R
        do {
            result = try body(&txn)
        } catch {
            txn.abort()
            throw error
        }
        try txn.commit()
        return result
    }

    /// Runs `body` in a read-only snapshot. Keep it short: a long read pins old pages.
    public func read<R, E: Error>(_ body: (borrowing ReadTransaction) throws(E) -> R) throws -> R {
        let txn = try ReadTransaction(env: env)
        return try body(txn)
    }

    /// Turns fsync on commit off or on (`MDB_NOSYNC`) for the transactions that follow.
    /// A later synced commit (or `sync()`) makes the unsynced ones durable too.
    public func setSyncOnCommit(_ on: Bool) throws(LMDBError) {
        try check(mdb_env_set_flags(env, UInt32(MDB_NOSYNC), on ? 0 : 1), "mdb_env_set_flags")
    }

    /// Flushes the data to disk (for environments opened with sync disabled).
    public func sync() throws(LMDBError) {
        try check(mdb_env_sync(env, 1), "mdb_env_sync")
    }

    /// Page size and the number of the last page in use.
    public func info() -> (pageSize: Int, lastPage: Int, mapSize: Int) {
        var stat = MDB_stat()
        mdb_env_stat(env, &stat)
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return (Int(stat.ms_psize), Int(info.me_last_pgno), Int(info.me_mapsize))
    }

    /// Copies the environment to `directory` (which must exist and be empty), omitting free pages.
    public func copyCompacted(to directory: String) throws(LMDBError) {
        try check(mdb_env_copy2(env, directory, UInt32(MDB_CP_COMPACT)), "mdb_env_copy2")
    }
}

/// A handle to a named database inside an environment; valid for the environment's lifetime.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi

    /// How a database orders and stores its keys.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let create = Flags(rawValue: UInt32(MDB_CREATE))
        /// Several sorted values per key.
        public static let duplicateSort = Flags(rawValue: UInt32(MDB_DUPSORT))
        /// With `duplicateSort`: all values have one size, stored without per-value headers.
        public static let duplicateFixed = Flags(rawValue: UInt32(MDB_DUPFIXED))
    }
}
