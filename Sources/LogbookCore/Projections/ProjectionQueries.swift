import LogbookLMDB

/// One entry of a user's timeline: an activity interval (consecutive samples with equal data
/// merged under the heartbeat rule) or a single event, with every correction applied.
public struct TimelineItem: Sendable, Equatable {
    public var start: Timestamp
    public var end: Timestamp
    public var type: EventType
    /// The effective payload (of the first sample, for a merged interval: they are equal).
    public var data: [Field]
    /// Activity samples: the category under the rules in effect when the sample was applied.
    public var category: String?
    /// Ids of the events it was built from: the samples, then the corrections applied to them.
    public var events: [EventID]
    /// Sequences of the samples.
    public var sequences: [UInt64]
}

public struct TimelinePage: Sendable {
    public var items: [TimelineItem]
    /// Pass as `after` to get the next page; nil on the last page.
    public var next: String?
}

/// One user's figures for one local day.
public struct DailyRow: Sendable, Equatable {
    public var user: UserID
    /// `YYYY-MM-DD` in the tenant's time zone.
    public var date: String
    public var aggregate: DailyAggregate
}

/// A team's figures over a period.
public struct TeamReport: Sendable {
    public struct Member: Sendable {
        public var user: UserID
        public var role: String?
        public var active: Bool
        public var totals: DailyAggregate
        /// Days with a clock-in.
        public var daysAttended: Int
        public var attendedMicros: Int64
        /// Active hours × hourly rate; nil unless asked for (managers and admins only) or no rate set.
        public var cost: Double?
    }

    public var manager: UserID
    public var fromDate: String
    public var toDate: String
    public var members: [Member]
    public var totals: DailyAggregate
    public var topApps: [(name: String, micros: Int64)]
    public var topCategories: [(name: String, micros: Int64)]
    public var cost: Double?
}

/// Which audit records to return.
public struct AuditFilter: Sendable {
    public var actor: String?
    public var subject: UserID?
    public var type: EventType?
    /// Occurred-at range.
    public var from: Timestamp?
    public var to: Timestamp?
    public var newestFirst = true
    /// Continue after this sequence (the previous page's `next`).
    public var after: UInt64?
    public var limit = 100

    public init(
        actor: String? = nil, subject: UserID? = nil, type: EventType? = nil, from: Timestamp? = nil,
        to: Timestamp? = nil, newestFirst: Bool = true, after: UInt64? = nil, limit: Int = 100
    ) {
        (self.actor, self.subject, self.type, self.from, self.to) = (actor, subject, type, from, to)
        (self.newestFirst, self.after, self.limit) = (newestFirst, after, limit)
    }
}

public struct AuditPage: Sendable {
    public var records: [AuditRecord]
    public var next: UInt64?
}

/// Reads projections in one read snapshot.
struct ProjectionReader {
    let tables: ProjectionTables

    func settings<T: Transaction & ~Copyable>(in txn: borrowing T) throws -> TenantSettings {
        try Projector(tables: tables, in: txn).settings
    }

    // MARK: Timeline

    /// Effective entries of `user` that overlap [from, to).
    func entries<T: Transaction & ~Copyable>(
        _ user: UserID, from: Int64, to: Int64, in txn: borrowing T
    ) throws -> [TimelineEntry] {
        var out: [TimelineEntry] = []
        // Chunk keys are unsigned hours: events before 2000 are refused, so they start at 0.
        let range = Projector.chunks(overlapping: from, to)
        let (first, last) = (range.lowerBound, range.upperBound)
        try txn.withCursor(tables.timeline) { cursor in
            let startKey = ProjectionKey.userDay(user, first)
            var entry = try startKey.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let e = entry, e.key.count == 20, e.key.starts(with: user.bytes),
                ProjectionKey.day(fromKey: e.key) <= last
            {
                out += try TimelineChunk(e.value, hour: ProjectionKey.day(fromKey: e.key)).entries(
                    overlapping: from, to)
                entry = try cursor.next()
            }
        }
        return out
    }

    func timeline<T: Transaction & ~Copyable>(
        _ user: UserID, from: Timestamp, to: Timestamp, after: String?, limit: Int, in txn: borrowing T
    ) throws -> TimelinePage {
        let pulse = try settings(in: txn).pulseMicros
        let items = ProjectionReader.merge(
            try entries(user, from: from.microseconds, to: to.microseconds, in: txn), pulse: pulse
        ).filter { $0.start < to && ($0.end > from || $0.start >= from) }
        var startIndex = 0
        if let after, let cursor = ProjectionReader.parseCursor(after) {
            startIndex = items.firstIndex { ($0.start.microseconds, $0.sequences.first ?? 0) > cursor } ?? items.count
        }
        let page = Array(items[startIndex..<min(items.count, startIndex + max(1, limit))])
        let more = startIndex + page.count < items.count
        return TimelinePage(
            items: page, next: more ? page.last.map { "\($0.start.microseconds):\($0.sequences.first ?? 0)" } : nil)
    }

    static func parseCursor(_ s: String) -> (Int64, UInt64)? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let t = Int64(parts[0]), let q = UInt64(parts[1]) else { return nil }
        return (t, q)
    }

    /// The heartbeat rule (as ActivityWatch's): a sample extends the open interval of its kind
    /// when its data is equal and it starts no later than the interval's end + `pulse`; the
    /// interval never shrinks. Other events are items of their own.
    static func merge(_ entries: [TimelineEntry], pulse: Int64) -> [TimelineItem] {
        var items: [TimelineItem] = []
        var open: [EventType: Int] = [:]  // kind → index in items
        for e in entries {
            let start = e.occurredAt.microseconds
            let end = e.end
            let mergeable = e.type == .activityWindow || e.type == .activityAFK
            if mergeable, let i = open[e.type], items[i].data == e.data, items[i].category == e.category,
                start <= items[i].end.microseconds + pulse
            {
                items[i].end = Timestamp(microseconds: max(items[i].end.microseconds, end))
                items[i].events.append(e.id)
                items[i].events.append(contentsOf: e.corrections)
                items[i].sequences.append(e.sequence)
                continue
            }
            items.append(
                TimelineItem(
                    start: e.occurredAt, end: Timestamp(microseconds: end), type: e.type, data: e.data,
                    category: e.category, events: [e.id] + e.corrections, sequences: [e.sequence]))
            if mergeable { open[e.type] = items.count - 1 }
        }
        return items
    }

    // MARK: Daily and team

    func daily<T: Transaction & ~Copyable>(
        _ user: UserID, fromDay: Int32, toDay: Int32, in txn: borrowing T
    ) throws -> [DailyRow] {
        var rows: [DailyRow] = []
        let fromDay = max(0, fromDay)
        guard fromDay <= toDay else { return rows }
        try txn.withCursor(tables.daily) { cursor in
            var entry = try ProjectionKey.userDay(user, fromDay).withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let e = entry, e.key.count == 20, e.key.starts(with: user.bytes) {
                let day = ProjectionKey.day(fromKey: e.key)
                if day > toDay { break }
                rows.append(
                    DailyRow(user: user, date: DayCalendar.date(day), aggregate: try DailyAggregate(decoding: e.value)))
                entry = try cursor.next()
            }
        }
        return rows
    }

    func person<T: Transaction & ~Copyable>(_ user: UserID, in txn: borrowing T) throws -> PersonRecord? {
        try user.bytes.withUnsafeBytes { k in
            try txn.get(tables.people, key: k) { try $0.map(PersonRecord.init(decoding:)) }
        }
    }

    /// The manager and their direct reports (via `manager` or team.member_added), manager first.
    func teamMembers<T: Transaction & ~Copyable>(_ manager: UserID, in txn: borrowing T) throws -> [UserID] {
        var members = [manager]
        try txn.withCursor(tables.teams) { cursor in
            var entry = try manager.bytes.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let e = entry, e.key.count == 32, e.key.starts(with: manager.bytes) {
                let member = UUID128(bytes: e.key, at: 16)
                if member != manager { members.append(member) }
                entry = try cursor.next()
            }
        }
        return members
    }

    func team<T: Transaction & ~Copyable>(
        _ manager: UserID, fromDay: Int32, toDay: Int32, includeCost: Bool, in txn: borrowing T
    ) throws -> TeamReport {
        let settings = try settings(in: txn)
        var report = TeamReport(
            manager: manager, fromDate: DayCalendar.date(fromDay), toDate: DayCalendar.date(toDay), members: [],
            totals: DailyAggregate(), topApps: [], topCategories: [], cost: nil)
        for user in try teamMembers(manager, in: txn) {
            let person = try person(user, in: txn)
            var totals = DailyAggregate()
            var daysAttended = 0
            var attended: Int64 = 0
            for row in try daily(user, fromDay: fromDay, toDay: toDay, in: txn) {
                totals.merge(row.aggregate)
                if !row.aggregate.clockIns.isEmpty { daysAttended += 1 }
                attended += row.aggregate.attendedMicros
            }
            var cost: Double?
            if includeCost, let rate = settings.rate(for: user) {
                cost = (Double(totals.activeMicros) / 3.6e9 * rate * 100).rounded() / 100
                report.cost = (report.cost ?? 0) + cost!
            }
            report.members.append(
                .init(
                    user: user, role: person?.role, active: person?.active ?? true, totals: totals,
                    daysAttended: daysAttended, attendedMicros: attended, cost: cost))
            report.totals.merge(totals)
        }
        func top(_ m: [String: Int64]) -> [(name: String, micros: Int64)] {
            m.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map {
                ($0.key, $0.value)
            }
        }
        report.topApps = top(report.totals.apps)
        report.topCategories = top(report.totals.categories)
        return report
    }

    // MARK: Audit

    func audit<T: Transaction & ~Copyable>(_ f: AuditFilter, in txn: borrowing T) throws -> AuditPage {
        var records: [AuditRecord] = []
        let limit = max(1, min(f.limit, 1000))
        // The most selective index that the filter names, else the records themselves.
        let prefix: [UInt8]?
        if let s = f.subject {
            prefix = Array(AuditRecord.indexKey(subject: s, 0).dropLast(8))
        } else if let t = f.type {
            prefix = Array(AuditRecord.indexKey(type: t, 0).dropLast(8))
        } else if let a = f.actor {
            prefix = Array(AuditRecord.indexKey(actor: a, 0).dropLast(8))
        } else {
            prefix = nil
        }
        let db = prefix == nil ? tables.audit : tables.auditIndex
        let p = prefix ?? []
        var next: UInt64?
        try txn.withCursor(db) { cursor in
            // Position on the first candidate in the requested direction.
            let startSeq: UInt64 = f.newestFirst ? (f.after.map { $0 &- 1 } ?? .max) : (f.after.map { $0 + 1 } ?? 0)
            var entry: Cursor.Entry?
            if f.after == 0 && f.newestFirst { return }
            entry = try (p + ProjectionKey.sequence(startSeq)).withUnsafeBytes { try cursor.seek(atLeast: $0) }
            if f.newestFirst {
                if let e = entry, e.key.starts(with: p), e.key.elementsEqual(p + ProjectionKey.sequence(startSeq)) {
                    // exact: keep
                } else {
                    entry = try entry == nil ? cursor.last() : cursor.previous()
                }
            }
            while let e = entry, e.key.starts(with: p), e.key.count == p.count + 8 {
                let seq = UInt64(bigEndian: e.key.loadUnaligned(fromByteOffset: p.count, as: UInt64.self))
                let record: AuditRecord? =
                    prefix == nil
                    ? try AuditRecord(decoding: e.value)
                    : try ProjectionKey.sequence(seq).withUnsafeBytes { k in
                        try txn.get(tables.audit, key: k) { try $0.map(AuditRecord.init(decoding:)) }
                    }
                if let r = record, matches(r, f) {
                    if records.count == limit {
                        next = records.last?.event.sequence
                        return
                    }
                    records.append(r)
                }
                entry = try f.newestFirst ? cursor.previous() : cursor.next()
            }
        }
        return AuditPage(records: records, next: next)
    }

    private func matches(_ r: AuditRecord, _ f: AuditFilter) -> Bool {
        let e = r.event
        if let s = f.subject, e.subject != s { return false }
        if let t = f.type, e.type != t { return false }
        if let a = f.actor, e.actor != a { return false }
        if let from = f.from, e.occurredAt < from { return false }
        if let to = f.to, e.occurredAt >= to { return false }
        return true
    }
}
