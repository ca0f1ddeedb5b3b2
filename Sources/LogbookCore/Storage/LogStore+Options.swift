extension LogStore {
    /// Tunables; the defaults suit one machine with up to tens of thousands of tenants.
    public struct Options: Sendable {
        /// Most events one commit (one write transaction, one fsync) takes from a tenant's queue.
        public var maxBatchEvents = 4096
        /// Most (approximate, uncompressed) bytes one commit takes; one append is never split.
        public var maxBatchBytes = 8 << 20
        /// Most events in one stored block; bigger batches are split into several blocks.
        public var maxBlockEvents = 1000
        /// How long a commit waits for more appends to join when its batch is small (microseconds).
        /// 0: commit at once; appends that arrive during a commit form the next batch anyway.
        public var maxBatchDelayMicros = 0
        /// Events waiting in one tenant's queue before appends to it are refused (`queueFull`).
        public var maxQueuedEventsPerTenant = 20_000
        /// Events waiting in all queues before appends are refused.
        public var maxQueuedEvents = 100_000
        /// Open tenant environments kept in the LRU (each holds two file descriptors and a map).
        public var maxOpenTenants = 256
        /// Threads that run commits; a commit mostly waits for fsync, so more than cores helps.
        public var commitThreads = 8
        /// Threads that keep projections up to date after commits (0: projections are brought
        /// up to date only when queried or rebuilt, e.g. for bulk loads). Three on two cores:
        /// with two, next to the commit threads, the projections got too small a share of the
        /// CPU at full ingest load and fell up to a second behind (250 ms with three).
        public var projectionThreads = 3
        /// Shortest time between two projection turns of one tenant (microseconds): commits in
        /// between are applied together, which saves work when a tenant commits often (many
        /// small requests). Live projections (and `waitForProjections`) lag by about this
        /// much plus one turn. (100 ms with a 500 ms deferral looked faster at full HTTP load
        /// in two alternating pairs, not in two more, and took the live lag of the
        /// projections benchmark to 644–1,006 ms against 432–505 ms: not taken, 2026-11-26.)
        public var projectionIntervalMicros = 50_000
        /// Longest a projection turn is put off while commits are running or another turn runs
        /// (microseconds, counted from the first commit it would apply; 0: never). Commits then
        /// have the CPU and the disk first, which shortens acknowledgements under load; at full
        /// load live projections lag by up to this much more.
        public var projectionDeferMicros = 250_000
        /// Committed events, over all tenants, kept in memory for the live projections so that
        /// they need not read back what was just written (0: always read the log). Past it, the
        /// projections read the log; memory stays bounded however far they fall behind.
        /// 200,000: once ingest got faster (2026-11-26) a full-speed file ingest left 130,000
        /// and more events unprojected now and then, past 100,000 the projections read the log
        /// back, fell further behind, and the live lag reached 1,034 ms; with 200,000 it stayed
        /// at 340–435 ms in three runs (445–580 with 100,000 in the same minutes).
        public var maxCommittedEventsInMemory = 200_000
        /// Nice value of the projection threads. Raising it (e.g. 5) lets commits and requests
        /// have the CPU first, which shortens ack latency under load, but at full ingest
        /// load the projections then fall further behind; 0 keeps them within a second.
        public var projectionNiceness: Int32 = 0
        /// Virtual size reserved per tenant environment; files grow only as data is written.
        public var mapSize = 1 << 36
        /// zstd level for block bodies. 1: with the ids kept out of zstd, level 1 left the
        /// standard workload's log at 31.61 B/event and level 3 at 31.08, but level 3 took 60 %
        /// more compression time (a sixth of a commit's CPU at level 3).
        public var compressionLevel: Int32 = 1
        /// Train a per-tenant zstd dictionary once a tenant has this many events (0: never).
        /// Training runs in the background; the first commit after it uses the dictionary.
        /// 1,000 rather than 2,000: the blocks committed while it trains go without one.
        public var dictionaryTrainingEvents = 1000
        /// Largest size of a tenant's dictionary, bytes (specs/storage.md, "Dictionaries"). 24 KiB:
        /// with zstd-trained dictionaries, on the standard workload, 16 KiB left the log at
        /// 32.01 B/event, 24 KiB at 31.73 and 32 KiB at 31.55, each step costing each tenant the
        /// dictionary's bytes once.
        public var dictionarySize = 24 * 1024
        /// Skip fsync. Only for tests and tools that rebuild from elsewhere: a crash may lose
        /// acknowledged events.
        public var unsafeNoSync = false
        /// How new blocks are stored. Only tests change it, to write blocks of the earlier
        /// format (`.zstd`) and check that they still read and verify.
        var blockCodec = BlockHeader.Codec.zstdAfterIDs
        /// The header format of new blocks. Only tests change it, to write blocks of format 1
        /// (a binary Merkle tree) and check that they still verify.
        var blockFormatVersion = BlockHeader.formatVersion
        /// The server clock used for `recordedAt`; replaceable in tests.
        public var clock: @Sendable () -> Timestamp = { Timestamp.now() }

        public init() {}
    }
}
