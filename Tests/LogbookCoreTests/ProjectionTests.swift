import Foundation
import LogbookLMDB
import Synchronization
import LogbookTestSupport
import Testing

@testable import LogbookCore

/// Builds events for projection tests: one tenant, a manager and three reports.
struct ProjectionScenario {
    var g: SeededGenerator
    var t: Int64 = EventFactory.t0.microseconds
    let users = (1...4).map(EventFactory.user)
    var manager: UserID { users[0] }

    init(seed: UInt64) { g = SeededGenerator(seed: seed) }

    mutating func event(
        _ type: EventType, _ user: UserID?, at: Int64? = nil, duration: Int64? = nil, _ data: [Field]
    )
        -> Event
    {
        Event(
            id: .random(using: &g), type: type, subject: user, occurredAt: Timestamp(microseconds: at ?? t),
            duration: duration, data: data)
    }

    mutating func window(
        _ user: UserID, at: Int64, seconds: Int64, app: String, title: String, url: String? = nil
    ) -> Event {
        event(
            .activityWindow, user, at: at, duration: seconds * 1_000_000,
            [Field(.app, .string(app)), Field(.title, .string(title))] + (url.map { [Field(.url, .string($0))] } ?? []))
    }

    mutating func setting(_ key: String, _ json: String) -> Event {
        event(.settingsChanged, nil, [Field(.key, .string(key)), Field(.value, .string(json))])
    }

    mutating func corrected(_ user: UserID, _ target: Value, _ set: [Field]) -> Event {
        event(.eventCorrected, user, [Field(.target, target), Field(.set, .fields(set))])
    }

    mutating func retracted(_ user: UserID, _ target: Value) -> Event {
        event(.eventRetracted, user, [Field(.target, target), Field(.reason, .string("mistake"))])
    }

    /// A random stream: heartbeats, out-of-order samples, AFK, attendance, time entries,
    /// settings changes (pulse, time zone, categories), team changes, corrections (also of
    /// corrections) and retractions.
    mutating func randomStream(_ n: Int) -> [Event] {
        var out: [Event] = [
            event(.userInvited, manager, [Field(.email, .string("m@x")), Field(.role, .string("manager"))])
        ]
        for u in users.dropFirst() {
            out.append(
                event(
                    .userInvited, u,
                    [Field(.email, .string("e@x")), Field(.role, .string("employee")), Field(.manager, .uuid(manager))])
            )
        }
        // Category rules are set once, first: a rebuild applies the rules in force to all of
        // history, so a change in the middle is not what this property compares (see
        // `categoryRules` for that).
        out.insert(
            setting("categories", ##"[{"category":"Development","app":"^Code$"},{"category":"Chat","title":"#"}]"##),
            at: 0)
        let apps = ["Code", "Slack", "Firefox"]
        let titles = ["main.swift", "#general", "docs — Logbook"]
        while out.count < n {
            let user = users[Int(g.next() % 4)]
            t += Int64(g.next() % 40_000_000)
            let roll = g.next() % 100
            switch roll {
            case 0..<50:
                // Samples, now and then late (placed by time) or repeating the previous data.
                let at = g.next() % 8 == 0 ? t - Int64(g.next() % 3_600_000_000) : t
                out.append(
                    window(
                        user, at: at, seconds: Int64(1 + g.next() % 60), app: apps[Int(g.next() % 3)],
                        title: titles[Int(g.next() % 3)], url: g.next() % 4 == 0 ? "https://x.example/é" : nil))
            case 50..<58:
                out.append(
                    event(
                        .activityAFK, user, duration: Int64(g.next() % 300_000_000),
                        [Field(.status, .string(g.next() % 2 == 0 ? "afk" : "not-afk"))]))
            case 58..<63:
                out.append(event(.attendanceClockIn, user, [Field(.note, .string("hello"))]))
            case 63..<67:
                out.append(event(.attendanceClockOut, user, [Field(.report, .string("bye"))]))
            case 67..<71:
                out.append(
                    event(
                        .timeEntryRecorded, user,
                        [
                            Field(.project, .string(["apollo", "gemini"][Int(g.next() % 2)])),
                            Field(.start, .time(Timestamp(microseconds: t - 3_600_000_000))),
                            Field(.end, .time(Timestamp(microseconds: t))),
                        ]))
            case 71..<74:
                let zone = ["UTC", "Europe/Berlin", "America/New_York"][Int(g.next() % 3)]
                out.append(setting("timezone", "\"\(zone)\""))
            case 74..<76:
                out.append(setting("pulsetime", "\(g.next() % 30)"))
            case 78..<80:
                out.append(
                    event(
                        g.next() % 2 == 0 ? .teamMemberAdded : .teamMemberRemoved, user,
                        [Field(.manager, .uuid(users[1]))]))
            case 80..<92:
                // A correction of an earlier event of the same user (by id or sequence; may be
                // refused when the target was retracted: then nothing is stored).
                guard
                    let target = out.filter({ $0.subject == user && $0.type == .activityWindow }).randomElement(
                        using: &g)
                else { continue }
                out.append(corrected(user, .uuid(target.id), [Field(.title, .string("(private)"))]))
            default:
                guard
                    let target = out.filter({ $0.subject == user && $0.type != .eventRetracted }).randomElement(
                        using: &g)
                else { continue }
                out.append(retracted(user, .uuid(target.id)))
            }
        }
        return out
    }
}

@Suite("Projections")
struct ProjectionTests {
    let tenant = TenantID("acme")!

    func store(_ dir: TemporaryDirectory, live: Bool = true) throws -> LogStore {
        var o = testOptions()
        o.projectionThreads = live ? 1 : 0
        return try LogStore(directory: dir.path, options: o)
    }

    @Test(
        "for random streams, the incrementally maintained state equals the rebuilt state byte for byte",
        arguments: [1, 2, 3, 4] as [UInt64])
    func incrementalEqualsRebuild(seed: UInt64) async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var scenario = ProjectionScenario(seed: seed)
        let events = scenario.randomStream(700)
        var g = SeededGenerator(seed: seed &* 77)
        var i = 0
        while i < events.count {
            // Random batch sizes, so the projector's batches fall at random places too.
            let n = Int(1 + g.next() % 40)
            _ = try await s.append(Array(events[i..<min(events.count, i + n)]), to: tenant)
            i += n
        }
        let head = try s.lastSequence(tenant)
        #expect(try await s.waitForProjections(tenant, through: head, timeout: .seconds(30)))
        let live = try s.projectionContents(tenant)
        #expect(live.contains { !$0.isEmpty })
        let before = try s.projectionStatus(tenant)
        try s.rebuildProjections(tenant)
        let after = try s.projectionStatus(tenant)
        #expect(after.generation != before.generation)
        #expect(after.checkpoint == head)
        let rebuilt = try s.projectionContents(tenant)
        #expect(rebuilt.count == live.count)
        for (a, b) in zip(live, rebuilt) { #expect(a == b) }

        // As of the head, computed in a scratch environment, the answers are the live ones.
        for user in scenario.users {
            let now = try s.timeline(tenant, user: user, from: EventFactory.t0, to: .init(microseconds: .max / 2))
            let asOf = try s.timeline(
                tenant, user: user, from: EventFactory.t0, to: .init(microseconds: .max / 2), asOf: .sequence(head))
            #expect(now.items == asOf.items)
        }
    }

    @Test("rebuilding many tenants at once: each ends as its live state; progress reaches the total")
    func rebuildManyTenants() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        let tenants = (0..<5).map { TenantID("t\($0)")! }
        for (k, t) in tenants.enumerated() {
            var scenario = ProjectionScenario(seed: 10 + UInt64(k))
            _ = try await s.append(scenario.randomStream(60 + 40 * k), to: t)
            #expect(try await s.waitForProjections(t, through: try s.lastSequence(t), timeout: .seconds(30)))
        }
        let live = try tenants.map { try s.projectionContents($0) }
        let before = try tenants.map { try s.projectionStatus($0).generation }
        let total = try tenants.reduce(0) { $0 + (try s.lastSequence($1)) }

        let seen = Mutex<[RebuildProgress]>([])
        let applied = try s.rebuildProjections(concurrency: 3) { p in seen.withLock { $0.append(p) } }
        #expect(applied == total)
        for (k, t) in tenants.enumerated() {
            #expect(try s.projectionStatus(t).generation != before[k])
            #expect(try s.projectionContents(t) == live[k])
        }
        let reports = seen.withLock { $0 }
        #expect(reports.allSatisfy { $0.tenants == 5 && $0.totalEvents == total && $0.events <= total })
        #expect(reports.contains { $0.tenantsDone == 5 && $0.events == total })

        // A tenant that does not exist fails the whole call, naming the problem.
        let error = #expect(throws: LogError.self) { try s.rebuildProjections(of: [TenantID("nobody")!]) }
        #expect(error?.code == .tenantNotFound)
    }

    @Test("a reader waiting for its writes does not wait out the projection interval")
    func waitingHurriesTheTurn() async throws {
        let dir = TemporaryDirectory()
        var o = testOptions()
        o.projectionThreads = 1
        o.projectionIntervalMicros = 60_000_000  // a minute: only a hurried turn can come in time
        let s = try LogStore(directory: dir.path, options: o)
        defer { s.close() }
        var g = SeededGenerator(seed: 6)
        // The first turn comes at once (no turn before it); the second would wait a minute.
        for i in 0..<2 {
            let at = Timestamp(microseconds: EventFactory.t0.microseconds + Int64(i) * 10_000_000)
            _ = try await s.append([EventFactory.window(&g, at: at)], to: tenant)
            let start = ContinuousClock.now
            #expect(try await s.waitForProjections(tenant, through: try s.lastSequence(tenant), timeout: .seconds(10)))
            #expect(ContinuousClock.now - start < .seconds(10))
        }
        #expect(try s.projectionStatus(tenant).checkpoint == 2)
    }

    @Test("a turn is put off while commits run, up to the deferral limit; a waiting reader is not")
    func turnsYieldToCommits() async throws {
        let dir = TemporaryDirectory()
        let gate = ClockGate()
        var o = testOptions()
        o.projectionThreads = 1
        o.projectionIntervalMicros = 0
        o.projectionDeferMicros = 60_000_000  // a minute: within the test, only an idle store lets a turn run
        o.clock = { gate.pass() }
        let s = try LogStore(directory: dir.path, options: o)
        defer { s.close() }
        defer { gate.release() }  // first, should the test end early: `close` waits for a held commit
        var g = SeededGenerator(seed: 7)
        let other = TenantID("other")!
        func caughtUp(within limit: Duration) async throws -> Bool {
            try await eventually(within: limit) { try s.projectionStatus(tenant).checkpoint >= s.lastSequence(tenant) }
        }
        // Nothing else committing: the turn runs by itself.
        _ = try await s.append([EventFactory.window(&g, at: EventFactory.t0)], to: tenant)
        #expect(try await caughtUp(within: .seconds(10)))

        // Another tenant's commit held in flight (its clock call blocks): the next turn waits.
        gate.closeNextCall()
        let event = EventFactory.window(&g, at: EventFactory.t0)
        let held = Task { try await s.append([event], to: other) }
        #expect(try await eventually(within: .seconds(30)) { gate.isHolding })
        let later = Timestamp(microseconds: EventFactory.t0.microseconds + 10_000_000)
        _ = try await s.append([EventFactory.window(&g, at: later)], to: tenant)
        #expect(try await !caughtUp(within: .milliseconds(300)))
        // A reader waiting for its own write hurries the turn past the deferral.
        #expect(try await s.waitForProjections(tenant, through: try s.lastSequence(tenant), timeout: .seconds(10)))

        // And once the commits pause, a put-off turn runs without anyone asking.
        let third = Timestamp(microseconds: EventFactory.t0.microseconds + 20_000_000)
        _ = try await s.append([EventFactory.window(&g, at: third)], to: tenant)
        #expect(try await !caughtUp(within: .milliseconds(300)))
        gate.release()
        _ = try await held.value
        #expect(try await caughtUp(within: .seconds(10)))
    }

    @Test("projection threads follow the log by themselves")
    func liveThreadsFollow() async throws {
        let dir = TemporaryDirectory()
        var o = testOptions()
        o.projectionThreads = 1
        o.projectionIntervalMicros = 50_000
        let s = try LogStore(directory: dir.path, options: o)
        defer { s.close() }
        var g = SeededGenerator(seed: 5)
        for i in 0..<20 {
            let at = Timestamp(microseconds: EventFactory.t0.microseconds + Int64(i) * 10_000_000)
            _ = try await s.append([EventFactory.window(&g, at: at)], to: tenant)
        }
        let head = try s.lastSequence(tenant)
        // Nobody asks (no waitForProjections, no query): the thread alone must get there.
        #expect(try await eventually(within: .seconds(10)) { try s.projectionStatus(tenant).checkpoint >= head })
        let status = try s.projectionStatus(tenant)
        #expect(status.checkpoint == head)
        #expect(status.lag == 0)
    }

    @Test("samples with equal data merge within the pulse time, never shrink, and late samples are placed by time")
    func heartbeats() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var p = ProjectionScenario(seed: 5)
        let u = p.users[1]
        let t0 = EventFactory.t0.microseconds
        let sec: Int64 = 1_000_000
        let events = [
            p.window(u, at: t0, seconds: 10, app: "Code", title: "a"),
            p.window(u, at: t0 + 12 * sec, seconds: 10, app: "Code", title: "a"),  // gap 2 s ≤ 5 s: merges
            p.window(u, at: t0 + 13 * sec, seconds: 2, app: "Code", title: "a"),  // inside: no shrink
            p.window(u, at: t0 + 40 * sec, seconds: 5, app: "Code", title: "a"),  // gap 18 s: new interval
            p.window(u, at: t0 + 60 * sec, seconds: 5, app: "Slack", title: "b"),
            p.window(u, at: t0 + 30 * sec, seconds: 5, app: "Code", title: "c"),  // late: placed at t0+30
        ]
        let out = try await s.append(events, to: tenant)
        #expect(try await s.waitForProjections(tenant, through: out.last!.sequence!))
        let page = try s.timeline(
            tenant, user: u, from: EventFactory.t0, to: Timestamp(microseconds: t0 + 3_600 * sec))
        #expect(page.items.map { $0.start.microseconds - t0 } == [0, 30 * sec, 40 * sec, 60 * sec])
        #expect(page.items[0].end.microseconds - t0 == 22 * sec)
        #expect(page.items[0].events == [events[0].id, events[1].id, events[2].id])
        #expect(page.items[1].data == [Field(.app, .string("Code")), Field(.title, .string("c"))])
        // A longer pulse (a tenant setting) does not merge across the late sample with other
        // data (as in ActivityWatch, a sample extends only the latest interval of its kind).
        // After removing it, the two "a" intervals merge.
        _ = try await s.append([p.retracted(u, .uuid(events[5].id))], to: tenant)
        let pulse = try await s.append([p.setting("pulsetime", "30")], to: tenant)
        #expect(try await s.waitForProjections(tenant, through: pulse[0].sequence!))
        let wider = try s.timeline(
            tenant, user: u, from: EventFactory.t0, to: Timestamp(microseconds: t0 + 3_600 * sec))
        #expect(wider.items.map { $0.start.microseconds - t0 } == [0, 60 * sec])
        #expect(wider.items[0].end.microseconds - t0 == 45 * sec)
        // Paging: one item per page, following `next`.
        let first = try s.timeline(
            tenant, user: u, from: EventFactory.t0, to: Timestamp(microseconds: t0 + 3_600 * sec), limit: 1)
        let second = try s.timeline(
            tenant, user: u, from: EventFactory.t0, to: Timestamp(microseconds: t0 + 3_600 * sec), after: first.next,
            limit: 1)
        #expect(first.items + second.items == Array(wider.items))
        #expect(second.next == nil)
    }

    @Test("corrections apply to timeline, daily figures and audit; a retraction hides the event and its time")
    func correctionsApplyEverywhere() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var p = ProjectionScenario(seed: 6)
        let u = p.users[2]
        let t0 = EventFactory.t0.microseconds
        let a = p.window(u, at: t0, seconds: 100, app: "Code", title: "secret.swift")
        let b = p.window(u, at: t0 + 1_000_000_000, seconds: 50, app: "Slack", title: "#general")
        let fix = p.corrected(u, .uuid(a.id), [Field(.title, .string("(private)")), Field(.app, .string("Editor"))])
        let out = try await s.append([a, b, fix], to: tenant)
        #expect(try await s.waitForProjections(tenant, through: out[2].sequence!))
        let items = try s.timeline(
            tenant, user: u, from: EventFactory.t0, to: Timestamp(microseconds: t0 + 86_400_000_000)
        )
        .items
        #expect(items[0].data == [Field(.app, .string("Editor")), Field(.title, .string("(private)"))])
        #expect(items[0].events == [a.id, fix.id])
        var day = try s.daily(tenant, user: u, from: "2025-01-01", to: "2025-01-01")
        #expect(day.count == 1)
        #expect(day[0].aggregate.apps == ["Editor": 100_000_000, "Slack": 50_000_000])
        #expect(day[0].aggregate.activeMicros == 150_000_000)

        let gone = try await s.append([p.retracted(u, .uuid(b.id))], to: tenant)
        #expect(try await s.waitForProjections(tenant, through: gone[0].sequence!))
        #expect(
            try s.timeline(tenant, user: u, from: EventFactory.t0, to: Timestamp(microseconds: t0 + 86_400_000_000))
                .items.map(\.events.first) == [a.id])
        day = try s.daily(tenant, user: u, from: "2025-01-01", to: "2025-01-01")
        #expect(day[0].aggregate.apps == ["Editor": 100_000_000])
        #expect(day[0].aggregate.lastActivity == t0 + 100_000_000)

        // The audit trail keeps both, with the original's fields before and after.
        let audit = try s.audit(tenant, filter: AuditFilter(subject: u, newestFirst: false))
        #expect(audit.records.map(\.event.type) == [.eventCorrected, .eventRetracted])
        #expect(audit.records[0].targetID == a.id)
        #expect(audit.records[0].before == a.data)
        #expect(audit.records[0].after == items[0].data)
        #expect(audit.records[1].target == 2)
        #expect(audit.records[1].after == nil)
    }

    @Test("daily figures use the tenant's time zone: a DST day has 23 hours and a sample across midnight splits")
    func timeZoneDays() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var p = ProjectionScenario(seed: 7)
        let u = p.users[1]
        // 2025-03-30 in Berlin: 00:00 CET = 2025-03-29T23:00Z, 24:00 CEST = 2025-03-30T22:00Z.
        let dayStart = Timestamp(rfc3339: "2025-03-29T23:00:00Z")!.microseconds
        let dayEnd = Timestamp(rfc3339: "2025-03-30T22:00:00Z")!.microseconds
        let events = [
            p.setting("timezone", #""Europe/Berlin""#),
            p.window(u, at: dayStart - 60_000_000, seconds: 120, app: "Code", title: "x"),  // 1 min each side
            p.window(u, at: dayEnd - 30_000_000, seconds: 60, app: "Code", title: "y"),  // 30 s each side
        ]
        let out = try await s.append(events, to: tenant)
        #expect(try await s.waitForProjections(tenant, through: out.last!.sequence!))
        let days = try s.daily(tenant, user: u, from: "2025-03-29", to: "2025-03-31")
        #expect(days.map(\.date) == ["2025-03-29", "2025-03-30", "2025-03-31"])
        #expect(days.map(\.aggregate.activeMicros) == [60_000_000, 90_000_000, 30_000_000])
        #expect(days[1].aggregate.firstActivity == dayStart)
        #expect(days[1].aggregate.lastActivity == dayEnd)
    }

    @Test("team: the manager and direct reports (manager field and team.member_added), costs only when asked")
    func team() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var p = ProjectionScenario(seed: 8)
        let (m, a, b, c) = (p.users[0], p.users[1], p.users[2], p.users[3])
        let t0 = EventFactory.t0.microseconds
        var events = [
            p.event(.userInvited, m, [Field(.email, .string("m@x")), Field(.role, .string("manager"))]),
            p.event(
                .userInvited, a,
                [Field(.email, .string("a@x")), Field(.role, .string("employee")), Field(.manager, .uuid(m))]),
            p.event(.userInvited, b, [Field(.email, .string("b@x")), Field(.role, .string("employee"))]),
            p.event(.teamMemberAdded, b, [Field(.manager, .uuid(m))]),
            p.event(
                .userInvited, c,
                [Field(.email, .string("c@x")), Field(.role, .string("employee")), Field(.manager, .uuid(m))]),
            p.event(.userRoleChanged, c, [Field(.role, .string("employee")), Field(.manager, .null)]),
            p.setting("hourly_rates", #"{"default": 10}"#),
        ]
        for u in [m, a, b, c] { events.append(p.window(u, at: t0, seconds: 3600, app: "Code", title: "t")) }
        let out = try await s.append(events, to: tenant)
        #expect(try await s.waitForProjections(tenant, through: out.last!.sequence!))
        let report = try s.team(tenant, manager: m, from: "2025-01-01", to: "2025-01-31")
        #expect(
            report.members.map(\.user)
                == [m, a, b].sorted { $0 == m || ($1 != m && $0.bytes.lexicographicallyPrecedes($1.bytes)) })
        #expect(report.totals.activeMicros == 3 * 3_600_000_000)
        #expect(report.cost == nil && report.members.allSatisfy { $0.cost == nil })
        let withCost = try s.team(tenant, manager: m, from: "2025-01-01", to: "2025-01-31", includeCost: true)
        #expect(withCost.cost == 30)
        #expect(withCost.topApps.first?.name == "Code")
    }

    @Test("audit queries filter by subject, type and actor, page newest or oldest first")
    func auditPaging() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var p = ProjectionScenario(seed: 9)
        var events: [Event] = []
        for i in 0..<25 {
            var e = p.event(
                .tagAdded, p.users[i % 2], [Field(.entity, .string("task-\(i)")), Field(.tag, .string("urgent"))])
            e.actor = i % 5 == 0 ? "agent:laptop" : nil
            events.append(e)
        }
        let out = try await s.append(events, to: tenant)
        #expect(try await s.waitForProjections(tenant, through: out.last!.sequence!))
        var seen: [UInt64] = []
        var filter = AuditFilter(subject: p.users[0], limit: 5)
        while seen.count <= 100 {  // bounded: a cursor that never ends must fail, not loop
            let page = try s.audit(tenant, filter: filter)
            seen += page.records.map(\.event.sequence)
            guard let next = page.next else { break }
            filter.after = next
        }
        #expect(seen == stride(from: 25, through: 1, by: -2).map(UInt64.init))
        let oldest = try s.audit(tenant, filter: AuditFilter(type: .tagAdded, newestFirst: false, limit: 3))
        #expect(oldest.records.map(\.event.sequence) == [1, 2, 3])
        #expect(oldest.next == 3)
        let byActor = try s.audit(tenant, filter: AuditFilter(actor: "agent:laptop", newestFirst: false))
        #expect(byActor.records.map(\.event.sequence) == [1, 6, 11, 16, 21])
        #expect(try s.audit(tenant, filter: AuditFilter(actor: "agent:other")).records.isEmpty)
    }

    @Test("as of a sequence or a time, answers come from the log as it stood then; the live state is untouched")
    func asOf() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir, live: false)
        defer { s.close() }
        var p = ProjectionScenario(seed: 10)
        let u = p.users[1]
        let t0 = EventFactory.t0.microseconds
        let a = p.window(u, at: t0, seconds: 10, app: "Code", title: "a")
        _ = try await s.append([a], to: tenant)
        let between = Timestamp.now()
        try await Task.sleep(for: .milliseconds(5))
        _ = try await s.append([p.corrected(u, .int(1), [Field(.title, .string("b"))])], to: tenant)
        let range = (EventFactory.t0, Timestamp(microseconds: t0 + 86_400_000_000))
        #expect(try s.projectionStatus(tenant).checkpoint == 0)
        let then = try s.timeline(tenant, user: u, from: range.0, to: range.1, asOf: .sequence(1))
        #expect(then.items.map(\.data) == [a.data])
        let atTime = try s.timeline(tenant, user: u, from: range.0, to: range.1, asOf: .time(between))
        #expect(atTime.items.map(\.data) == [a.data])
        #expect(try s.projectionStatus(tenant).checkpoint == 0)  // live state untouched
        try s.catchUpProjections(tenant)
        let now = try s.timeline(tenant, user: u, from: range.0, to: range.1)
        #expect(now.items.first?.data[1] == Field(.title, .string("b")))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/tmp")) ?? []
        #expect(leftovers.isEmpty)  // the scratch environments are removed
    }

    @Test("category rules apply from their event on; a rebuild applies the rules in force to all of history")
    func categoryRules() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var p = ProjectionScenario(seed: 12)
        let u = p.users[1]
        let t0 = EventFactory.t0.microseconds
        let before = p.window(u, at: t0, seconds: 60, app: "Code", title: "a")
        let rules = p.setting("categories", #"[{"category":"Development","app":"^code$"}]"#)
        let after = p.window(u, at: t0 + 120_000_000, seconds: 60, app: "Code", title: "a")
        let out = try await s.append([before, rules, after], to: tenant)
        #expect(try await s.waitForProjections(tenant, through: out[2].sequence!))
        func categories() throws -> [String: Int64] {
            try s.daily(tenant, user: u, from: "2025-01-01", to: "2025-01-01")[0].aggregate.categories
        }
        #expect(try categories() == ["Uncategorized": 60_000_000, "Development": 60_000_000])
        try s.rebuildProjections(tenant)
        #expect(try categories() == ["Development": 120_000_000])
        // As of a point in the log, the rules of that point.
        let then = try s.daily(tenant, user: u, from: "2025-01-01", to: "2025-01-01", asOf: .sequence(3))
        #expect(then[0].aggregate.categories == ["Uncategorized": 60_000_000, "Development": 60_000_000])
    }

    @Test("projections an older Logbook stored in another format are cleared on open and built again from the log")
    func outdatedFormatIsRebuilt() async throws {
        let dir = TemporaryDirectory()
        var p = ProjectionScenario(seed: 21)
        let events = p.randomStream(200)
        let user = p.users[1]
        let range = (EventFactory.t0, Timestamp(microseconds: .max / 2))
        let expected: [TimelineItem]
        let contents: [[[UInt8]]]
        do {
            let s = try store(dir)
            defer { s.close() }
            _ = try await s.append(events, to: tenant)
            #expect(try await s.waitForProjections(tenant, through: try s.lastSequence(tenant)))
            expected = try s.timeline(tenant, user: user, from: range.0, to: range.1).items
            contents = try s.projectionContents(tenant)
            // What a format-1 store looks like to this version: no `format` key, and timeline
            // records (here: the user's first chunk) this version cannot read.
            try s.withTenant(tenant, create: false) { log in
                try log.env.write { (txn: inout WriteTransaction) throws in
                    let live = try log.liveTables(in: txn)
                    _ = try ProjectionTables.formatKey.withUnsafeBytes { try txn.delete(live.state, key: $0) }
                    let key = try txn.withCursor(live.timeline) { c in
                        try user.bytes.withUnsafeBytes { try c.seek(atLeast: $0).map { Array($0.key) } }
                    }
                    try #require(key).withUnsafeBytes { k in
                        try [UInt8](repeating: 0xEE, count: 64).withUnsafeBytes {
                            try txn.put(live.timeline, key: k, value: $0)
                        }
                    }
                }
            }
            #expect(throws: LogError.self) { try s.timeline(tenant, user: user, from: range.0, to: range.1) }
        }
        do {
            let s = try store(dir, live: false)
            defer { s.close() }
            #expect(try s.projectionStatus(tenant).checkpoint == 0)
            #expect(try await s.waitForProjections(tenant, through: try s.lastSequence(tenant)))
            #expect(try s.timeline(tenant, user: user, from: range.0, to: range.1).items == expected)
            #expect(try s.projectionContents(tenant) == contents)
            try s.withTenant(tenant, create: false) { log in
                try log.env.write { (txn: inout WriteTransaction) throws in
                    let live = try log.liveTables(in: txn)
                    _ = try ProjectionTables.formatKey.withUnsafeBytes { try txn.delete(live.state, key: $0) }
                }
            }
        }
        // With projection threads (a server), opening the tenant is enough: no commit and no
        // reader waiting for its writes is needed for them to catch up.
        let s = try store(dir, live: true)
        defer { s.close() }
        let head = try s.lastSequence(tenant)
        #expect(try await eventually(within: .seconds(30)) { try s.projectionStatus(tenant).checkpoint == head })
        #expect(try s.projectionContents(tenant) == contents)
    }

    @Test("bad query arguments get a typed error")
    func badArguments() async throws {
        let dir = TemporaryDirectory()
        let s = try store(dir)
        defer { s.close() }
        var p = ProjectionScenario(seed: 11)
        _ = try await s.append(
            [p.window(p.users[0], at: EventFactory.t0.microseconds, seconds: 1, app: "a", title: "b")], to: tenant)
        for (from, to) in [("2025-13-01", "2025-01-02"), ("2025-01-02", "2025-01-01"), ("2024-01-01", "2025-06-01")] {
            #expect(throws: LogError.self) { try s.daily(tenant, user: p.users[0], from: from, to: to) }
        }
        #expect(throws: LogError.self) {
            try s.timeline(tenant, user: p.users[0], from: EventFactory.t0, to: EventFactory.t0)
        }
        #expect(throws: LogError.self) { try s.projectionStatus(TenantID("nobody")!) }
    }
}

/// A test clock that can hold the next commit that reads it until released, keeping that
/// commit in flight.
final class ClockGate: @unchecked Sendable {
    // @unchecked: all state guarded by `condition`.
    private let condition = NSCondition()
    private var closeNext = false
    private var released = false

    func pass() -> Timestamp {
        condition.lock()
        if closeNext {
            closeNext = false
            condition.broadcast()
            while !released { condition.wait() }
        }
        condition.unlock()
        return Timestamp.now()
    }

    func closeNextCall() { condition.withLock { closeNext = true } }

    /// Whether a call has taken the closing set by `closeNextCall`. Polled (`eventually`), not
    /// waited for: a test blocking its thread here could hold the one the held call needs.
    var isHolding: Bool { condition.withLock { !closeNext } }

    func release() {
        condition.withLock {
            released = true; condition.broadcast()
        }
    }
}
