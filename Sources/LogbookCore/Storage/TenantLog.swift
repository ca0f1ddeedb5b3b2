import DequeModule
import Foundation
import LogbookCrypto
import LogbookLMDB
import LogbookZstd
import Synchronization

/// One tenant's log: its own LMDB environment (directory 0700, files 0600) with the named
/// databases `log` (blocks), `meta` (chain head, dictionaries) and `ids` (the dedup index).
///
/// `@unchecked Sendable`: the writer state (`head`, `compressor`, `sha`) is touched only by the
/// commit worker that holds this log's `scheduled` flag, so by one thread at a time, with the
/// queue's mutex ordering the hand-over between workers. Everything else is immutable or behind
/// a `Mutex`/`Atomic`.
final class TenantLog: @unchecked Sendable {
    let tenant: TenantID
    let env: Environment
    let log: Database
    let meta: Database
    let dedup: Database
    /// Access tokens: SHA-256 of the token → `TokenRecord` (tokens themselves are never stored).
    let tokens: Database
    /// Deactivated users: user id → the sequence of their `user.deactivated`.
    let people: Database
    /// Correction chains and retracted events (TenantLog+Corrections.swift).
    let corrections: Database
    /// The two generations of projection tables (ProjectionTables.swift).
    let projectionTables: (ProjectionTables, ProjectionTables)
    /// Serialises catch-up and rebuild of this tenant's projections within the process.
    let projectionLock = NSLock()
    /// The live projections' checkpoint as last seen by this process.
    let projected = Atomic<UInt64>(0)
    /// Whether a projection thread has this tenant queued, and whether commits came since.
    let projectionQueue = Mutex(ProjectionQueueState())

    struct ProjectionQueueState {
        var scheduled = false
        var pending = false
        /// A reader waits for its writes: the queued turn was moved up to now.
        var hurried = false
        /// When the last projection turn began (uptime, ns).
        var lastTurn: UInt64 = 0
        /// When the oldest commit no turn has begun to apply was made (uptime, ns; 0: none).
        var waitingSince: UInt64 = 0
    }
    let options: LogStore.Options
    /// Committed events not yet projected (nil without projection threads): see
    /// `CommittedEvents`; the budget is the store's, shared by all tenants.
    let committedEvents = Mutex(CommittedEvents())
    let committedBudget: CommittedEventsBudget?

    // Writer state.
    var head: ChainHead
    var compressor: ZstdCompressor
    var sha = SHA256()
    let scratch = EncodingScratch()
    /// The sequence from which a commit starts training a dictionary (`.max`: not now).
    var nextTrainingAt: UInt64
    let training = DictionaryTraining()
    /// The dedup index's runs, oldest first (see TenantLog+Dedup.swift).
    var dedupRuns: [DedupRun]
    /// Users whose events are refused (writer state; `deactivatedUsers` is the readers' copy).
    var deactivated: Set<UserID>
    let deactivatedUsers = Mutex<Set<UserID>>([])

    /// The last committed sequence, for readers and followers.
    let committed: Atomic<UInt64>
    let queue = Mutex(QueueState())
    let dictionaries = Mutex<[UInt32: ZstdDictionary]>([:])
    let waiters = Mutex(Waiters())
    /// Directories whose new entries (the tenant's directory, its data files) are not yet
    /// durable: a tenant created on first use has them synced by its first durable write, on
    /// that write's thread, rather than by the appender that created it (see `open`).
    private let unsyncedDirectories = Mutex<[String]>([])

    struct QueueState {
        var pending: Deque<PendingAppend> = []
        var queuedEvents = 0
        var scheduled = false
    }

    struct PendingAppend {
        var encoded: EncodedEvents
        /// Approximate encoded size, for the batch byte bound.
        var bytes: Int
        var completion: @Sendable (Result<[AppendOutcome], LogError>) -> Void
    }

    struct Waiters {
        var nextID = 0
        var list: [(id: Int, after: UInt64, continuation: CheckedContinuation<UInt64, Never>)] = []
    }

    static let headKey = Array("head".utf8)
    static let tenantKey = Array("tenant".utf8)
    static func dictionaryKey(_ id: UInt32) -> [UInt8] {
        Array("dict/".utf8) + withUnsafeBytes(of: id.bigEndian, Array.init)
    }

    /// Opens the tenant's environment in `directory`, creating it when `create` is set.
    static func open(
        tenant: TenantID, directory: String, options: LogStore.Options, create: Bool,
        committedBudget: CommittedEventsBudget? = nil
    ) throws(LogError)
        -> TenantLog
    {
        let path = directory + "/" + tenant.rawValue
        var unsynced: [String] = []  // directories that get new entries here
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard create else { throw LogError(.tenantNotFound, "tenant \(tenant) does not exist") }
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw LogError(
                    .io, "cannot create the directory of tenant \(tenant): \(String(cString: strerror(errno)))")
            }
            unsynced.append(directory)
        }
        // LMDB makes data.mdb (and lock.mdb) when they are missing: a new tenant, or one whose
        // creator stopped before opening its environment.
        if create && !FileManager.default.fileExists(atPath: path + "/data.mdb") { unsynced.append(path) }
        do {
            var envOptions = Environment.Options()
            envOptions.mapSize = options.mapSize
            envOptions.noSync = options.unsafeNoSync
            envOptions.maxDatabases = 32  // the log's own, plus two generations of projections
            let env = try Environment(path: path, options: envOptions)
            let log = try TenantLog(tenant: tenant, env: env, options: options, committedBudget: committedBudget)
            // The new directory's entry, and data.mdb and lock.mdb in it, must survive a power
            // loss along with the first write anyone is told is durable. Synced here they cost
            // the appender that opened the tenant two fsyncs behind every commit's writes (a
            // tenth of a hundred-tenant ingest's first second, when opening held the store's
            // table lock); its first commit pays them on a commit thread instead.
            if !unsynced.isEmpty { log.unsyncedDirectories.withLock { $0 = unsynced } }
            return log
        } catch let error as LogError {
            throw error
        } catch {
            throw LogError(.io, "cannot open the log of tenant \(tenant)", cause: error)
        }
    }

    deinit { forgetCommitted() }

    private init(
        tenant: TenantID, env: Environment, options: LogStore.Options, committedBudget: CommittedEventsBudget?
    ) throws {
        self.tenant = tenant
        self.env = env
        self.options = options
        self.committedBudget = committedBudget
        // One write transaction creates the databases and stamps the tenant's name; for an
        // existing tenant it changes nothing. It need not be durable on its own: nothing has
        // been acknowledged yet, and the tenant's first synced commit flushes it too.
        let stamp = Array(tenant.rawValue.utf8)
        try env.setSyncOnCommit(false)
        defer { if !options.unsafeNoSync { try? env.setSyncOnCommit(true) } }
        (log, meta, dedup, tokens, people, corrections, projectionTables) = try env.write {
            (txn: inout WriteTransaction) throws in
            let log = try txn.openDatabase("log", flags: [.create])
            let meta = try txn.openDatabase("meta", flags: [.create])
            let dedup = try txn.openDatabase("ids", flags: [.create])
            let tokens = try txn.openDatabase("tokens", flags: [.create])
            let people = try txn.openDatabase("deactivated", flags: [.create])
            let corrections = try txn.openDatabase("corrections", flags: [.create])
            let existing = try stamp.withUnsafeBytes { _ in
                try TenantLog.tenantKey.withUnsafeBytes { k in try txn.get(meta, key: k) { $0.map { Array($0) } } }
            }
            if let existing {
                guard existing == stamp else {
                    throw LogError(.corrupt, "the directory of tenant \(tenant) holds another tenant's log")
                }
            } else {
                try TenantLog.tenantKey.withUnsafeBytes { k in
                    try stamp.withUnsafeBytes { v in try txn.put(meta, key: k, value: v) }
                }
            }
            let projections = (
                try ProjectionTables.open(generation: 1, in: txn), try ProjectionTables.open(generation: 2, in: txn)
            )
            _ = try projections.0.clearIfOutdated(in: txn)
            _ = try projections.1.clearIfOutdated(in: txn)
            return (log, meta, dedup, tokens, people, corrections, projections)
        }
        let genesis = ChainHash.genesis(tenant)
        let metaDB = meta
        head = try env.read { txn in
            try TenantLog.headKey.withUnsafeBytes { k in
                try txn.get(metaDB, key: k) { v throws -> ChainHead in
                    guard let v else { return ChainHead(genesis: genesis) }
                    return try ChainHead(decoding: v)
                }
            }
        }
        let idsDB = dedup
        dedupRuns = try env.read { txn in try TenantLog.loadRuns(idsDB, in: txn) }
        let peopleDB = people
        deactivated = try env.read { txn in
            try txn.withCursor(peopleDB) { cursor in
                var set = Set<UserID>()
                var entry = try cursor.first()
                while let e = entry {
                    if e.key.count == 16 { set.insert(UUID128(bytes: e.key)) }
                    entry = try cursor.next()
                }
                return set
            }
        }
        deactivatedUsers.withLock { [deactivated] in $0 = deactivated }
        committed = Atomic(head.lastSequence)
        compressor = ZstdCompressor(level: options.compressionLevel)
        nextTrainingAt = head.dictionaryID == 0 ? UInt64(options.dictionaryTrainingEvents) : .max
        // Where the live projections stand, for the lag this process reports before it first
        // catches up.
        let checkpoint = try env.read { txn in try liveTables(in: txn).checkpoint(in: txn) }
        projected.store(checkpoint, ordering: .relaxed)
    }

    /// Makes a new tenant's directory entries durable, once; every durable write calls it
    /// before it reports success. The lock is held while syncing, so that a second writer
    /// cannot report its write durable before the first one's sync is done.
    func syncNewDirectories() {
        unsyncedDirectories.withLock { paths in
            guard !paths.isEmpty else { return }
            for path in paths { TenantLog.syncDirectory(path) }
            paths = []
        }
    }

    /// Whether this handle created the tenant's directory or files and no durable write has
    /// synced their entries yet.
    var hasUnsyncedDirectories: Bool { unsyncedDirectories.withLock { !$0.isEmpty } }

    /// fsyncs a directory so that entries created in it are durable.
    private static func syncDirectory(_ path: String) {
        let fd = Foundation.open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// The dictionary with `id`, loaded from `meta` on first use.
    func dictionary(_ id: UInt32) throws -> ZstdDictionary? {
        if id == 0 { return nil }
        if let d = dictionaries.withLock({ $0[id] }) { return d }
        let bytes = try env.read { txn in
            try TenantLog.dictionaryKey(id).withUnsafeBytes { k in try txn.get(meta, key: k) { $0.map { Array($0) } } }
        }
        guard let bytes else { throw LogError(.corrupt, "dictionary \(id) of tenant \(tenant) is missing") }
        let d = try ZstdDictionary(bytes: bytes, level: options.compressionLevel, id: id)
        dictionaries.withLock { $0[id] = d }
        return d
    }

    /// Wakes followers waiting for sequences up to `sequence`.
    func publish(_ sequence: UInt64) {
        committed.store(sequence, ordering: .releasing)
        let ready = waiters.withLock { w in
            let ready = w.list.filter { $0.after < sequence }
            w.list.removeAll { $0.after < sequence }
            return ready
        }
        for r in ready { r.continuation.resume(returning: sequence) }
    }
}
