import Foundation
import LogbookLMDB

/// A point in a tenant's history to compute projections at, for analysts: the state after
/// sequence N, or after the last event recorded at or before an instant.
public enum AsOf: Sendable, Equatable {
    case sequence(UInt64)
    case time(Timestamp)
}

/// Where a tenant's projections stand.
public struct ProjectionStatus: Sendable {
    public var tenant: TenantID
    /// The live generation (1 or 2; a rebuild switches it).
    public var generation: Int
    /// Last applied sequence.
    public var checkpoint: UInt64
    /// The log's last sequence.
    public var head: UInt64
    public var lag: UInt64 { head - min(head, checkpoint) }
    /// Stored entries per projection: timeline chunks (user-days), daily rows, audit records,
    /// people.
    public var entries: [(projection: String, count: Int)]
}

/// Projections: user timelines, daily and team aggregates, the audit trail — folds of each
/// tenant's log kept in its environment (specs/projections.md).
extension LogStore {
    /// The built-in projections' names.
    public static let projectionNames = ["timeline", "daily", "team", "audit"]

    /// Applies every committed event not yet projected; returns the checkpoint.
    @discardableResult
    public func catchUpProjections(_ tenant: TenantID) throws(LogError) -> UInt64 {
        try wrap { try withTenant(tenant, create: false) { try $0.catchUpProjections() } }
    }

    /// Rebuilds all projections of `tenant` from sequence 1 into fresh state and switches to
    /// it atomically (readers see the old state until then). `progress` gets (applied, head).
    @discardableResult
    public func rebuildProjections(
        _ tenant: TenantID, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws(LogError) -> UInt64 {
        try wrap { try withTenant(tenant, create: false) { try $0.rebuildProjections(progress: progress) } }
    }

    public func projectionStatus(_ tenant: TenantID) throws(LogError) -> ProjectionStatus {
        try wrap {
            try withTenant(tenant, create: false) { log in
                try log.env.read { txn in
                    let t = try log.liveTables(in: txn)
                    return ProjectionStatus(
                        tenant: tenant, generation: Int(t.generation), checkpoint: try t.checkpoint(in: txn),
                        head: try log.storedHead(in: txn),
                        entries: [
                            ("timeline", try txn.count(t.timeline)), ("daily", try txn.count(t.daily)),
                            ("audit", try txn.count(t.audit)), ("people", try txn.count(t.people)),
                        ])
                }
            }
        }
    }

    /// Waits until the projections of `tenant` include `sequence` (read-your-writes), at most
    /// `timeout`; catches up itself when no projection thread runs. False on timeout.
    public func waitForProjections(
        _ tenant: TenantID, through sequence: UInt64, timeout: Duration = .seconds(5)
    ) async throws(LogError) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let checkpoint = try wrap {
                try withTenant(tenant, create: false) { try $0.projectionPosition().checkpoint }
            }
            if checkpoint >= sequence { return true }
            // Without projection threads, catch up here. With them, have the tenant's next turn
            // run now and wait for it, rather than block this executor's thread on a catch-up
            // and its fsync.
            if options.projectionThreads == 0 {
                try catchUpProjections(tenant)
                continue
            }
            if ContinuousClock.now >= deadline { return false }
            hurryProjections(tenant)
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    // MARK: Queries

    /// The effective timeline of `user` overlapping [from, to): merged activity intervals and
    /// single events, corrections applied, retracted events hidden; `limit` items per page.
    public func timeline(
        _ tenant: TenantID, user: UserID, from: Timestamp, to: Timestamp, after: String? = nil, limit: Int = 500,
        asOf: AsOf? = nil
    ) throws(LogError) -> TimelinePage {
        guard from < to else { throw LogError(.invalidArgument, "`from` must be before `to`") }
        return try withProjections(tenant, asOf: asOf) { reader, txn in
            try reader.timeline(user, from: from, to: to, after: after, limit: limit, in: txn)
        }
    }

    /// Daily rows of `user` for local dates `from`…`to` (`YYYY-MM-DD`, inclusive), days
    /// without events left out.
    public func daily(
        _ tenant: TenantID, user: UserID, from: String, to: String, asOf: AsOf? = nil
    ) throws(LogError) -> [DailyRow] {
        let (a, b) = try LogStore.dayRange(from, to)
        return try withProjections(tenant, asOf: asOf) { reader, txn in
            try reader.daily(user, fromDay: a, toDay: b, in: txn)
        }
    }

    /// The team of `manager` over local dates `from`…`to`. Cost figures only with `includeCost`
    /// (manager and admin views).
    public func team(
        _ tenant: TenantID, manager: UserID, from: String, to: String, includeCost: Bool = false, asOf: AsOf? = nil
    ) throws(LogError) -> TeamReport {
        let (a, b) = try LogStore.dayRange(from, to)
        return try withProjections(tenant, asOf: asOf) { reader, txn in
            try reader.team(manager, fromDay: a, toDay: b, includeCost: includeCost, in: txn)
        }
    }

    /// Audit records matching `filter`, newest or oldest first, one page.
    public func audit(_ tenant: TenantID, filter: AuditFilter, asOf: AsOf? = nil) throws(LogError) -> AuditPage {
        try withProjections(tenant, asOf: asOf) { reader, txn in try reader.audit(filter, in: txn) }
    }

    /// The tenant's time zone and timeline pulse, as the projections apply them now.
    public func projectionSettings(_ tenant: TenantID) throws(LogError) -> (timeZone: String, pulseSeconds: Double) {
        try withProjections(tenant, asOf: nil) { reader, txn in
            let s = try reader.settings(in: txn)
            return (s.timeZone.identifier, Double(s.pulseMicros) / 1e6)
        }
    }

    static func dayRange(_ from: String, _ to: String) throws(LogError) -> (Int32, Int32) {
        guard let a = DayCalendar.day(from: from) else {
            throw LogError(.invalidArgument, "`from` must be a date YYYY-MM-DD")
        }
        guard let b = DayCalendar.day(from: to) else {
            throw LogError(.invalidArgument, "`to` must be a date YYYY-MM-DD")
        }
        guard a <= b else { throw LogError(.invalidArgument, "`from` must not be after `to`") }
        guard b - a <= 366 else { throw LogError(.invalidArgument, "a date range spans at most 367 days") }
        return (a, b)
    }

    /// Runs `body` on the live projections in one read snapshot, or on projections computed
    /// as of `asOf` in a scratch environment that is removed afterwards.
    func withProjections<R>(
        _ tenant: TenantID, asOf: AsOf?, _ body: (ProjectionReader, borrowing ReadTransaction) throws -> R
    ) throws(LogError) -> R {
        try wrap {
            try withTenant(tenant, create: false) { log in
                guard let asOf else {
                    return try log.env.read { txn in
                        try body(ProjectionReader(tables: try log.liveTables(in: txn)), txn)
                    }
                }
                let scratchRoot = directory + "/tmp"
                if mkdir(scratchRoot, 0o700) != 0 && errno != EEXIST {
                    throw LogError(.io, "cannot create \(scratchRoot)")
                }
                let scratch = scratchRoot + "/as-of-\(UUID().uuidString)"
                guard mkdir(scratch, 0o700) == 0 else { throw LogError(.io, "cannot create \(scratch)") }
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let (sequence, time): (UInt64?, Timestamp?) =
                    switch asOf {
                    case .sequence(let s): (s, nil)
                    case .time(let t): (nil, t)
                    }
                let (env, tables, _) = try log.projectAsOf(sequence: sequence, time: time, directory: scratch)
                return try env.read { txn in try body(ProjectionReader(tables: tables), txn) }
            }
        }
    }
}

extension LogStore {
    /// Every key and value of the live projections of `tenant`, database by database — for
    /// checking that a live projection equals its rebuild byte for byte.
    func projectionContents(_ tenant: TenantID) throws(LogError) -> [[[UInt8]]] {
        try wrap {
            try withTenant(tenant, create: false) { log in
                try log.env.read { txn in
                    try log.liveTables(in: txn).all.map { db in
                        try txn.withCursor(db) { cursor in
                            var out: [[UInt8]] = []
                            var entry = try cursor.first()
                            while let e = entry {
                                out.append(Array(e.key))
                                out.append(Array(e.value))
                                entry = try cursor.next()
                            }
                            return out
                        }
                    }
                }
            }
        }
    }
}
