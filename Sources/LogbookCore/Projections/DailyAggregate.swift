/// One user's figures for one calendar day in the tenant's time zone (the `daily` database).
///
/// Every figure is a sum, a minimum, a maximum or a sorted list of integers (microseconds), so
/// adding entries one by one in any order gives the same value as folding them all at once —
/// the projector adds new events incrementally and recomputes a day from the timeline only when
/// a correction or retraction touches it; both give the same bytes.
public struct DailyAggregate: Sendable, Equatable {
    /// Sum of activity sample durations inside the day.
    public var activeMicros: Int64 = 0
    public var afkMicros: Int64 = 0
    /// Active seconds per app and per category.
    public var apps: [String: Int64] {
        get { appTotals.dictionary }
        set { appTotals = NamedTotals(newValue) }
    }
    public var categories: [String: Int64] {
        get { categoryTotals.dictionary }
        set { categoryTotals = NamedTotals(newValue) }
    }
    var appTotals = NamedTotals()
    var categoryTotals = NamedTotals()
    /// Start of the first and end of the last activity sample inside the day.
    public var firstActivity: Int64 = .max
    public var lastActivity: Int64 = .min
    public var clockIns: [Int64] = []
    public var clockOuts: [Int64] = []
    /// Time entries: microseconds between `start` and `end`, per project.
    public var projects: [String: Int64] {
        get { projectTotals.dictionary }
        set { projectTotals = NamedTotals(newValue) }
    }
    var projectTotals = NamedTotals()
    /// Effective events counted into this day.
    public var events: Int64 = 0

    public init() {}

    /// An event's start, its overlap [lo, hi) with a day's UTC bounds and that overlap's length,
    /// and whether it starts inside the day: what `add` and `remove` both count by.
    private static func part(
        of e: borrowing TimelineEntry, in bounds: Range<Int64>
    ) -> (start: Int64, lo: Int64, hi: Int64, micros: Int64, pointInside: Bool) {
        part(start: e.occurredAt.microseconds, duration: e.duration, in: bounds)
    }

    private static func part(
        start: Int64, duration: Int64?, in bounds: Range<Int64>
    ) -> (start: Int64, lo: Int64, hi: Int64, micros: Int64, pointInside: Bool) {
        let (lo, hi) = (max(start, bounds.lowerBound), min(start + max(0, duration ?? 0), bounds.upperBound))
        return (start, lo, hi, max(0, hi - lo), bounds.contains(start))
    }

    /// Adds an activity sample's part of local day `day` (UTC bounds `bounds`): what `add` does
    /// with an activity.window entry, from the parts a live turn has without decoding one.
    mutating func addActivity(start: Int64, duration: Int64?, app: String?, category: String?, bounds: Range<Int64>) {
        let (_, lo, hi, micros, pointInside) = DailyAggregate.part(start: start, duration: duration, in: bounds)
        guard pointInside || micros > 0 else { return }
        activeMicros += micros
        // Maps hold no zero entries, so that taking an entry out again (`remove`) leaves
        // exactly what never adding it would have.
        if micros > 0 {
            if let app { appTotals.add(app, micros) }
            categoryTotals.add(category ?? TenantSettings.uncategorized, micros)
        }
        firstActivity = min(firstActivity, lo)
        lastActivity = max(lastActivity, max(lo, hi))
        events += 1
    }

    /// Adds `entry`'s part of local day `day` (UTC bounds `bounds`).
    mutating func add(_ e: borrowing TimelineEntry, bounds: Range<Int64>) {
        if e.type == .activityWindow {
            let app: String? = if case .string(let a)? = e[.app] { a } else { nil }
            addActivity(
                start: e.occurredAt.microseconds, duration: e.duration, app: app, category: e.category, bounds: bounds)
            return
        }
        let (start, _, _, micros, pointInside) = DailyAggregate.part(of: e, in: bounds)
        switch e.type {
        case .activityAFK:
            guard pointInside || micros > 0 else { return }
            if case .string("afk")? = e[.status] { afkMicros += micros }
        case .attendanceClockIn:
            guard pointInside else { return }
            clockIns.insert(start, at: clockIns.firstIndex { $0 > start } ?? clockIns.count)
        case .attendanceClockOut:
            guard pointInside else { return }
            clockOuts.insert(start, at: clockOuts.firstIndex { $0 > start } ?? clockOuts.count)
        case .timeEntryRecorded:
            guard pointInside else { return }
            if case .string(let project)? = e[.project], case .time(let s)? = e[.start], case .time(let t)? = e[.end],
                t > s
            {
                projectTotals.add(project, t.microseconds - s.microseconds)
            }
        default:
            guard pointInside else { return }
        }
        events += 1
    }

    /// Takes `entry`'s part of the day out again, exactly as if it had never been added; false
    /// when that is not possible from the figures alone (the entry set the day's first or last
    /// activity and `keepBounds` is off, or the figures do not hold it): recompute the day then.
    /// `keepBounds`: the entry is re-added with the same times right after (a correction).
    mutating func remove(_ entry: TimelineEntry, bounds: Range<Int64>, keepBounds: Bool) -> Bool {
        let e = entry
        let (start, lo, hi, micros, pointInside) = DailyAggregate.part(of: e, in: bounds)
        func take(_ totals: inout NamedTotals, _ key: String, _ v: Int64) -> Bool {
            v <= 0 || totals.take(key, v)
        }
        func takeOne(_ list: inout [Int64], _ t: Int64) -> Bool {
            guard let i = list.firstIndex(of: t) else { return false }
            list.remove(at: i)
            return true
        }
        switch e.type {
        case .activityWindow:
            guard pointInside || micros > 0 else { return true }
            if !keepBounds && (lo == firstActivity || max(lo, hi) == lastActivity) { return false }
            guard activeMicros >= micros else { return false }
            activeMicros -= micros
            if case .string(let app)? = e[.app], !take(&appTotals, app, micros) { return false }
            guard take(&categoryTotals, entry.category ?? TenantSettings.uncategorized, micros) else { return false }
        case .activityAFK:
            guard pointInside || micros > 0 else { return true }
            if case .string("afk")? = e[.status] {
                guard afkMicros >= micros else { return false }
                afkMicros -= micros
            }
        case .attendanceClockIn:
            guard pointInside else { return true }
            guard takeOne(&clockIns, start) else { return false }
        case .attendanceClockOut:
            guard pointInside else { return true }
            guard takeOne(&clockOuts, start) else { return false }
        case .timeEntryRecorded:
            guard pointInside else { return true }
            if case .string(let project)? = e[.project], case .time(let s)? = e[.start], case .time(let t)? = e[.end],
                t > s, !take(&projectTotals, project, t.microseconds - s.microseconds)
            {
                return false
            }
        default:
            guard pointInside else { return true }
        }
        guard events > 0 else { return false }
        events -= 1
        return true
    }

    /// Attended time: each clock-in to the next clock-out; a clock-in left open counts until
    /// the day's last activity, if later.
    public var attendedMicros: Int64 {
        var total: Int64 = 0
        var outs = clockOuts[...]
        var i = 0
        while i < clockIns.count {
            let start = clockIns[i]
            while let o = outs.first, o < start { outs = outs.dropFirst() }
            // Later clock-ins before that clock-out belong to the same stretch.
            var j = i + 1
            if let end = outs.first {
                while j < clockIns.count && clockIns[j] <= end { j += 1 }
                total += end - start
                outs = outs.dropFirst()
            } else {
                if lastActivity > start { total += lastActivity - start }
                j = clockIns.count
            }
            i = j
        }
        return total
    }

    mutating func merge(_ o: DailyAggregate) {
        activeMicros += o.activeMicros
        afkMicros += o.afkMicros
        for (k, v) in zip(o.appTotals.names, o.appTotals.values) { appTotals.add(k, v) }
        for (k, v) in zip(o.categoryTotals.names, o.categoryTotals.values) { categoryTotals.add(k, v) }
        for (k, v) in zip(o.projectTotals.names, o.projectTotals.values) { projectTotals.add(k, v) }
        firstActivity = min(firstActivity, o.firstActivity)
        lastActivity = max(lastActivity, o.lastActivity)
        events += o.events
    }

    var isEmpty: Bool { events == 0 }

    // MARK: Encoding (maps sorted by key, so equal aggregates are equal bytes)

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        w.u8(1)  // version
        w.svarint(activeMicros)
        w.svarint(afkMicros)
        w.svarint(firstActivity)
        w.svarint(lastActivity)
        w.svarint(events)
        for totals in [appTotals, categoryTotals, projectTotals] {
            w.varint(UInt64(totals.count))
            for (k, v) in totals.sorted {
                w.string(k)
                w.svarint(v)
            }
        }
        for list in [clockIns, clockOuts] {
            w.varint(UInt64(list.count))
            for t in list { w.svarint(t) }
        }
        return w.bytes
    }

    init(decoding b: UnsafeRawBufferPointer) throws(CodecError) {
        var r = ByteReader(b)
        guard try r.u8() == 1 else { throw CodecError(code: .unknownVersion, offset: 0) }
        activeMicros = try r.svarint()
        afkMicros = try r.svarint()
        firstActivity = try r.svarint()
        lastActivity = try r.svarint()
        events = try r.svarint()
        var maps: [NamedTotals] = []
        for _ in 0..<3 {
            let n = try r.count(unit: 2)
            var m = NamedTotals()
            for _ in 0..<n { m.add(try r.string(), try r.svarint()) }
            maps.append(m)
        }
        (appTotals, categoryTotals, projectTotals) = (maps[0], maps[1], maps[2])
        var lists: [[Int64]] = []
        for _ in 0..<2 {
            let n = try r.count()
            var l: [Int64] = []
            l.reserveCapacity(n)
            for _ in 0..<n { l.append(try r.svarint()) }
            lists.append(l)
        }
        (clockIns, clockOuts) = (lists[0], lists[1])
        guard r.isAtEnd else { throw r.fail(.trailingBytes) }
    }
}
