import LogbookLMDB

/// Applies events, in log order, to one generation of a tenant's projections: the user
/// timelines, daily aggregates, identity (people, teams), settings and the audit trail. A pure
/// fold: the state after sequence N depends only on events 1…N, which is what makes a live
/// projection equal its rebuild (specs/projections.md).
///
/// The fold reads stored state through any transaction and keeps everything it changes in
/// memory until `flush` writes it in one write transaction. A live turn can then fold in a read
/// snapshot and take the tenant's write lock only to store the result: the log's commits wait
/// for the projections' writes, never for their work. Touched timeline chunks and daily
/// aggregates are rewritten once per batch, however many events touched them.
struct Projector {
    let tables: ProjectionTables
    private(set) var settings = TenantSettings()
    private(set) var checkpoint: UInt64
    private var chunks = UserDayMap<TimelineChunk>()
    /// Per chunk: changed since the last flush; the others were only read (by a recompute).
    private var changedChunks: [Bool] = []
    private var days = UserDayMap<DailyAggregate>()
    private var people: [UserID: PersonRecord] = [:]
    /// Team memberships changed in this batch (0: removed), read before the stored ones.
    private var teams: [[UInt8]: UInt8] = [:]
    /// Puts (and deletes: nil) of everything else, in the order `flush` replays them.
    private var writes: [(db: Database, key: [UInt8], value: [UInt8]?)] = []
    /// Where timeline records are encoded before they go into their chunk.
    private let scratch = EncodingScratch()

    static let settingsPrefix = Array("settings/".utf8)

    /// The stored JSON of setting `key` in `tables`, if any.
    static func setting<T: Transaction & ~Copyable>(
        _ key: String, tables: ProjectionTables, in txn: borrowing T
    ) throws -> String? {
        try (settingsPrefix + Array(key.utf8)).withUnsafeBytes { k in
            try txn.get(tables.state, key: k) { $0.map { String(decoding: $0, as: UTF8.self) } }
        }
    }

    init<T: Transaction & ~Copyable>(tables: ProjectionTables, in txn: borrowing T) throws {
        self.tables = tables
        checkpoint = try tables.checkpoint(in: txn)
        var settings = TenantSettings()
        try txn.withCursor(tables.state) { cursor in
            var entry = try Projector.settingsPrefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let e = entry, e.key.starts(with: Projector.settingsPrefix) {
                let key = String(decoding: e.key.dropFirst(Projector.settingsPrefix.count), as: UTF8.self)
                settings.apply(key: key, json: String(decoding: e.value, as: UTF8.self))
                entry = try cursor.next()
            }
        }
        self.settings = settings
    }

    /// Category rules fixed for this fold (a rebuild applies the current rules to all of
    /// history); `categories` settings events are then stored but not applied.
    private var pinnedCategories = false

    /// Applies `json` as the category rules for every event this projector folds.
    mutating func pinCategories(_ json: String) {
        settings.apply(key: "categories", json: json)
        pinnedCategories = true
    }

    // MARK: Applying

    /// Applies `e` (the next event of the log). `log` reads the tenant's log and `txn` the
    /// projection's stored state: one transaction when both live in the same environment, two
    /// for as-of queries (whose state is in a scratch environment).
    mutating func apply<L: Transaction & ~Copyable, T: Transaction & ~Copyable>(
        _ e: Event, from tenantLog: TenantLog, log: borrowing L, state txn: borrowing T
    ) throws {
        guard e.sequence > checkpoint else { return }
        checkpoint = e.sequence
        var audit = AuditRecord.isAudited(e.type) ? AuditRecord(event: e) : nil
        switch e.type {
        case .settingsChanged:
            if case .string(let key)? = e[.key], case .string(let json)? = e[.value] {
                put(tables.state, Projector.settingsPrefix + Array(key.utf8), Array(json.utf8))
                if !(pinnedCategories && key == "categories") { settings.apply(key: key, json: json) }
            }
        case .userInvited, .userRoleChanged, .userDeactivated, .userReactivated, .teamMemberAdded,
            .teamMemberRemoved:
            try applyIdentity(e, txn)
        case .eventCorrected, .eventRetracted:
            try applyCorrection(e, audit: &audit, from: tenantLog, log: log, txn)
        default:
            break
        }
        if let user = e.subject, e.type != .eventCorrected, e.type != .eventRetracted {
            let entry = TimelineEntry(event: e, category: e.type == .activityWindow ? category(of: e.data) : nil)
            try addToTimeline(entry, user: user, txn)
        }
        if let audit {
            put(tables.audit, ProjectionKey.sequence(e.sequence), audit.encode())
            for k in AuditRecord.indexKeys(e) { put(tables.auditIndex, k, []) }
        }
    }

    /// Adds a record to `user`'s timeline and counts it into the days it falls in.
    private mutating func addToTimeline<S: TimelineRecordSource, T: Transaction & ~Copyable>(
        _ record: borrowing S, user: UserID, _ txn: borrowing T
    ) throws {
        let c = try loadChunk(UserDay(user: user, day: Projector.chunk(record.occurredMicros)), txn)
        try chunks[c].insert(record, scratch: scratch)  // in place: a local copy would copy the chunk's bytes
        changedChunks[c] = true
        for day in localDays(start: record.occurredMicros, duration: record.duration) {
            let d = try loadDay(UserDay(user: user, day: day), txn)
            record.count(into: &days[d], bounds: settings.timeZone.bounds(of: day))
        }
    }

    /// Applies the events of a commit's piece (`CommittedEvents`) in order: activity samples
    /// from their encoded bytes (`EncodedSample`), every other event decoded first. For a live
    /// turn, whose projection state and log are in one environment (`txn`).
    mutating func apply<T: Transaction & ~Copyable>(
        _ piece: CommittedEvents.Piece, from tenantLog: TenantLog, strings: inout CachedInlineStrings,
        _ txn: borrowing T
    ) throws {
        let encoded = piece.encoded
        for i in piece.range {
            let sequence = piece.first + UInt64(i - piece.range.lowerBound)
            guard sequence > checkpoint else { continue }
            if encoded.types[i] == .activityWindow, let user = encoded.subjects[i],
                try applySample(encoded, i, sequence: sequence, user: user, strings: &strings, txn)
            {
                continue
            }
            let e = encoded.event(i, sequence: sequence, recordedAt: piece.recordedAt, strings: &strings)
            try apply(e, from: tenantLog, log: txn, state: txn)
        }
    }

    /// Applies event `i` of `encoded`, an activity sample, without decoding it: what `apply`
    /// does with the decoded event. False, having done nothing, when a string of it is not
    /// well-formed UTF-8 (then the caller decodes the event, which reports that).
    private mutating func applySample<T: Transaction & ~Copyable>(
        _ encoded: EncodedEvents, _ i: Int, sequence: UInt64, user: UserID, strings: inout CachedInlineStrings,
        _ txn: borrowing T
    ) throws -> Bool {
        try encoded.tails.withUnsafeBytes { tails in
            let tail = EncodedTail(UnsafeRawBufferPointer(rebasing: tails[encoded.starts[i]..<encoded.starts[i + 1]]))
            let fields = EncodedSample.strings(in: tail.payload)
            var app: String?
            if let bytes = fields.app {
                guard let s = strings.cache.string(bytes) else { return false }
                app = s
            }
            var title: String?
            if let bytes = fields.title, !settings.rules.isEmpty {
                guard let s = strings.cache.string(bytes) else { return false }
                title = s
            }
            let sample = EncodedSample(
                sequence: sequence, id: encoded.ids[i], occurredMicros: encoded.occurred[i], duration: tail.duration,
                payload: tail.payload, app: app, category: category(app: app, title: title))
            checkpoint = sequence
            try addToTimeline(sample, user: user, txn)
            return true
        }
    }

    /// The category of an activity sample with payload `data`.
    private mutating func category(of data: [Field]) -> String {
        // Without rules (the common case), do not even look for the fields.
        guard !settings.rules.isEmpty else { return TenantSettings.uncategorized }
        var app: String?
        var title: String?
        for f in data {
            if f.key == .app, case .string(let s) = f.value { app = s }
            if f.key == .title, case .string(let s) = f.value { title = s }
        }
        return category(app: app, title: title)
    }

    /// The category of an activity sample of `app` (none: uncategorized) and `title`.
    private mutating func category(app: String?, title: String?) -> String {
        guard let app, !settings.rules.isEmpty else { return TenantSettings.uncategorized }
        return settings.category(app: app, title: title ?? "")
    }

    /// The local days an event counts into: the day of its start and, for a duration that
    /// crosses midnight, the following ones.
    private mutating func localDays(of e: borrowing TimelineEntry) -> ClosedRange<Int32> {
        localDays(start: e.occurredAt.microseconds, duration: e.duration)
    }

    private mutating func localDays(start: Int64, duration: Int64?) -> ClosedRange<Int32> {
        let first = settings.timeZone.day(of: start)
        let end = start + max(0, (duration ?? 0) - 1)
        return first...max(first, settings.timeZone.day(of: end))
    }

    /// The span of one timeline chunk: an hour of one user's samples. Hours, not days: a live
    /// turn rewrites the chunks it touches. (Ten minutes cost more: more keys to read, write
    /// and recompute from, for little less copying.)
    static let chunkMicros: Int64 = DayCalendar.hourMicros

    /// The timeline chunk an instant falls in: its UTC hour since 1970.
    static func chunk(_ t: Int64) -> Int32 {
        Int32(clamping: t >= 0 ? t / chunkMicros : (t - chunkMicros + 1) / chunkMicros)
    }

    /// Chunks that can hold entries overlapping [from, to): entries last at most a day, so
    /// from a day before `from` on.
    static func chunks(overlapping from: Int64, _ to: Int64) -> ClosedRange<Int32> {
        let lookBack = Int32(Catalogue.maxDurationMicros / chunkMicros)
        let first = max(0, chunk(from) - lookBack)
        return first...max(first, chunk(max(from, to - 1)))
    }

    // MARK: Corrections

    private mutating func applyCorrection<L: Transaction & ~Copyable, T: Transaction & ~Copyable>(
        _ e: Event, audit: inout AuditRecord?, from tenantLog: TenantLog, log: borrowing L, _ txn: borrowing T
    ) throws {
        // The commit recorded which original the chain applies to and when it occurred
        // (TenantLog+Corrections); the original concerns the same user.
        guard let link = try TenantLog.readCorrection(e.sequence, db: tenantLog.corrections, in: log),
            link.kind == .link, let user = e.subject
        else { return }
        audit?.target = link.root
        let c = try loadChunk(UserDay(user: user, day: Projector.chunk(link.occurred)), txn)
        try chunks[c].settle()
        guard let before = try chunks[c].entry(link.root) else { return }  // retracted before
        audit?.targetID = before.id
        audit?.before = before.data
        var after: TimelineEntry?
        if e.type == .eventCorrected, case .fields(let set)? = e[.set] {
            var entry = before
            entry.data = Projector.applying(set, to: entry.data, type: entry.type)
            entry.corrections.append(e.id)
            if entry.type == .activityWindow { entry.category = category(of: entry.data) }
            audit?.after = entry.data
            after = entry
        }
        try chunks[c].replace(link.root, with: after, scratch: scratch)
        changedChunks[c] = true
        // The days the original counted into: take it out and put the corrected one in; when
        // the figures alone cannot say (it was the day's first or last activity), recompute the
        // day from the corrected timeline.
        for day in localDays(of: before) {
            let bounds = settings.timeZone.bounds(of: day)
            let d = try loadDay(UserDay(user: user, day: day), txn)
            if days[d].remove(before, bounds: bounds, keepBounds: after != nil) {
                if let after { days[d].add(after, bounds: bounds) }
            } else {
                try recompute(d, txn)
            }
        }
    }

    /// `fields` with the replacement `set` applied, in the type's catalogue order.
    static func applying(_ set: [Field], to fields: [Field], type: EventType) -> [Field] {
        var out = fields
        for f in set {
            if let i = out.firstIndex(where: { $0.key == f.key }) {
                out[i].value = f.value
            } else {
                out.append(f)
            }
        }
        let order = Catalogue.spec(type).fields.map(\.key)
        return out.sorted { (order.firstIndex(of: $0.key) ?? 99) < (order.firstIndex(of: $1.key) ?? 99) }
    }

    /// Recomputes the aggregate at index `d` of `days` from the timeline.
    private mutating func recompute<T: Transaction & ~Copyable>(_ d: Int, _ txn: borrowing T) throws {
        let key = days.keys[d]
        let bounds = settings.timeZone.bounds(of: key.day)
        var aggregate = DailyAggregate()
        for chunk in Projector.chunks(overlapping: bounds.lowerBound, bounds.upperBound) {
            let c = try loadChunk(UserDay(user: key.user, day: chunk), txn)
            try chunks[c].settle()
            for entry in try chunks[c].entries(overlapping: bounds.lowerBound, bounds.upperBound) {
                aggregate.add(entry, bounds: bounds)
            }
        }
        days[d] = aggregate
    }

    // MARK: Identity

    private mutating func applyIdentity<T: Transaction & ~Copyable>(_ e: Event, _ txn: borrowing T) throws {
        guard let user = e.subject else { return }
        var person = try loadPerson(user, txn)
        let oldManager = person.manager
        switch e.type {
        case .userInvited, .userRoleChanged:
            if case .string(let role)? = e[.role] { person.role = role }
            switch e[.manager] {
            case .uuid(let m)?: person.manager = m
            case .null?: person.manager = nil
            default: break
            }
            if e.type == .userInvited { person.active = true }
        case .userDeactivated: person.active = false
        case .userReactivated: person.active = true
        case .teamMemberAdded, .teamMemberRemoved:
            if case .uuid(let m)? = e[.manager] {
                try setMembership(manager: m, member: user, bit: 2, on: e.type == .teamMemberAdded, txn)
            }
        default: break
        }
        if oldManager != person.manager {
            if let m = oldManager { try setMembership(manager: m, member: user, bit: 1, on: false, txn) }
            if let m = person.manager { try setMembership(manager: m, member: user, bit: 1, on: true, txn) }
        }
        people[user] = person
        put(tables.people, user.bytes, person.encode())
    }

    private mutating func setMembership<T: Transaction & ~Copyable>(
        manager: UserID, member: UserID, bit: UInt8, on: Bool, _ txn: borrowing T
    ) throws {
        let key = manager.bytes + member.bytes
        let old: UInt8 =
            try teams[key] ?? key.withUnsafeBytes { k in try txn.get(tables.teams, key: k) { $0?.first ?? 0 } }
        let new = on ? old | bit : old & ~bit
        if new != old { teams[key] = new }
    }

    private mutating func loadPerson<T: Transaction & ~Copyable>(
        _ user: UserID, _ txn: borrowing T
    ) throws -> PersonRecord {
        if let p = people[user] { return p }
        return try user.bytes.withUnsafeBytes { k in
            try txn.get(tables.people, key: k) { v in try v.map(PersonRecord.init(decoding:)) ?? PersonRecord() }
        }
    }

    // MARK: State

    /// The index in `chunks` of `key`'s chunk, loaded from storage (or empty) on first use.
    private mutating func loadChunk<T: Transaction & ~Copyable>(_ key: UserDay, _ txn: borrowing T) throws -> Int {
        if let c = chunks.index(of: key) { return c }
        let chunk = try ProjectionKey.userDay(key.user, key.day).withUnsafeBytes { k in
            try txn.get(tables.timeline, key: k) { v in
                v.map { TimelineChunk($0, hour: key.day) } ?? TimelineChunk(hour: key.day)
            }
        }
        changedChunks.append(false)
        return chunks.append(key, chunk)
    }

    /// The index in `days` of `key`'s aggregate, loaded from storage (or empty) on first use.
    private mutating func loadDay<T: Transaction & ~Copyable>(_ key: UserDay, _ txn: borrowing T) throws -> Int {
        if let d = days.index(of: key) { return d }
        let aggregate = try ProjectionKey.userDay(key.user, key.day).withUnsafeBytes { k in
            try txn.get(tables.daily, key: k) { v in try v.map(DailyAggregate.init(decoding:)) ?? DailyAggregate() }
        }
        return days.append(key, aggregate)
    }

    private mutating func put(_ db: Database, _ key: [UInt8], _ value: [UInt8]) {
        writes.append((db, key, value))
    }

    private func store(_ db: Database, _ key: [UInt8], _ value: [UInt8]?, _ txn: borrowing WriteTransaction) throws {
        try key.withUnsafeBytes { k in
            if let value {
                try value.withUnsafeBytes { v in try txn.put(db, key: k, value: v) }
            } else {
                _ = try txn.delete(db, key: k)
            }
        }
    }

    /// Writes what is held in memory and the checkpoint.
    mutating func flush(_ txn: borrowing WriteTransaction) throws {
        for w in writes { try store(w.db, w.key, w.value, txn) }
        for (key, bits) in teams { try store(tables.teams, key, bits == 0 ? nil : [bits], txn) }
        // In key order: neighbouring puts then land on the same B-tree pages.
        for c in chunks.indexesInStorageOrder() where changedChunks[c] {
            try chunks[c].settle()
            let key = chunks.keys[c]
            let k = ProjectionKey.userDay(key.user, key.day)
            try store(tables.timeline, k, chunks[c].bytes.isEmpty ? nil : chunks[c].bytes, txn)
        }
        for d in days.indexesInStorageOrder() {
            let key = days.keys[d]
            let k = ProjectionKey.userDay(key.user, key.day)
            try store(tables.daily, k, days[d].isEmpty ? nil : days[d].encode(), txn)
        }
        chunks = UserDayMap()
        changedChunks = []
        days = UserDayMap()
        people = [:]
        teams = [:]
        writes = []
        try tables.setCheckpoint(checkpoint, in: txn)
    }
}
