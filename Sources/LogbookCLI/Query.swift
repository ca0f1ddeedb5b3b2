import ArgumentParser
import Foundation
import LogbookCore

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Query a tenant's projections: timeline, daily, team or audit.",
        discussion: """
            timeline  --user U [--from T] [--to T]        merged intervals and events, corrections applied
            daily     --user U --from DATE [--to DATE]    one row per local day
            team      --team MANAGER --from DATE [--to DATE] [--cost]
            audit     [--user U] [--actor A] [--type TYPE] [--from T] [--to T] [--order newest|oldest]
            Times are RFC 3339 (or a date, meaning its midnight UTC); dates are YYYY-MM-DD in the \\
            tenant's time zone. --as-of SEQ or --as-of TIME computes the answer from the log as it \\
            stood then, without touching the live projections. Projections are first brought up to \\
            date with the log.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case timeline, daily, team, audit }
    enum Format: String, ExpressibleByArgument, CaseIterable { case json, table }
    enum Order: String, ExpressibleByArgument, CaseIterable { case newest, oldest }

    @Argument(help: "timeline, daily, team or audit") var kind: Kind
    @OptionGroup var store: StoreOptions
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "The user (id) the query is about.") var user: String?
    @Option(help: "The manager (id) whose team to report.") var team: String?
    @Option(help: "Audit: only this event type.") var type: String?
    @Option(help: "Audit: only this actor.") var actor: String?
    @Option(help: "Start (time or date).") var from: String?
    @Option(help: "End (time or date; exclusive for times, inclusive for dates).") var to: String?
    @Option(name: .customLong("as-of"), help: "A sequence number or a time.") var asOf: String?
    @Option(help: "json or table.") var format: Format = .json
    @Option(help: "Items per page.") var limit: Int = 500
    @Option(help: "Continue after this cursor (a previous answer's `next`).") var after: String?
    @Option(help: "Audit order.") var order: Order = .newest
    @Flag(help: "Team: include cost figures (hours × hourly rate; manager/admin views).") var cost = false

    func run() throws {
        let t = try parseTenant(tenant)
        let logStore = try store.openStore(create: false)
        defer { logStore.close() }
        _ = try tenantsToUse(logStore, tenant)
        let asOf = try asOf.map(parseAsOf)
        if asOf == nil { try logStore.catchUpProjections(t) }
        let document: [UInt8]
        var lines: [String] = []
        switch kind {
        case .timeline:
            let u = try required(user, "--user")
            let page = try logStore.timeline(
                t, user: u, from: try time(from) ?? Timestamp(microseconds: 0),
                to: try time(to) ?? Timestamp(microseconds: Int64.max / 2), after: after, limit: limit, asOf: asOf)
            document = ProjectionDocument.timeline(page)
            lines = page.items.map { item in
                let data = item.data.map { "\($0.key.name)=\(shortValue($0.value))" }.joined(separator: " ")
                return "\(item.start)  \(pad(seconds(item.end.microseconds - item.start.microseconds), 9))  "
                    + "\(pad(item.type.name, 22, left: true))  \(data)  (\(item.events.count) events)"
            }
        case .daily:
            let u = try required(user, "--user")
            let (a, b) = try dates()
            let rows = try logStore.daily(t, user: u, from: a, to: b, asOf: asOf)
            document = ProjectionDocument.daily(rows)
            lines = rows.map { r in
                let top = r.aggregate.apps.max { $0.value < $1.value }.map { "\($0.key)" } ?? "-"
                return "\(r.date)  active \(pad(seconds(r.aggregate.activeMicros), 9))  afk "
                    + "\(pad(seconds(r.aggregate.afkMicros), 8))  attended \(pad(seconds(r.aggregate.attendedMicros), 9))"
                    + "  events \(pad("\(r.aggregate.events)", 6))  top app \(top)"
            }
        case .team:
            let m = try required(team, "--team")
            let (a, b) = try dates()
            let report = try logStore.team(t, manager: m, from: a, to: b, includeCost: cost, asOf: asOf)
            document = ProjectionDocument.team(report)
            lines = report.members.map { m in
                "\(m.user)  \(pad(m.role ?? "-", 9, left: true))  active \(pad(seconds(m.totals.activeMicros), 10))"
                    + "  days attended \(pad("\(m.daysAttended)", 3))" + (m.cost.map { "  cost \($0)" } ?? "")
            }
        case .audit:
            var filter = AuditFilter(newestFirst: order == .newest, limit: limit)
            filter.subject = try user.map { try uuid($0, "--user") }
            filter.actor = actor
            if let type {
                guard let et = EventType(name: type) else { throw CLIError("unknown event type \(type)") }
                filter.type = et
            }
            filter.from = try time(from)
            filter.to = try time(to)
            if let after {
                guard let s = UInt64(after) else { throw CLIError("--after must be a sequence number for audit") }
                filter.after = s
            }
            let page = try logStore.audit(t, filter: filter, asOf: asOf)
            document = ProjectionDocument.audit(page)
            lines = page.records.map { r in
                "\(pad("\(r.event.sequence)", 8))  \(r.event.occurredAt)  \(pad(r.event.type.name, 22, left: true))  "
                    + "user \(r.event.subject?.description ?? "-")" + (r.targetID.map { "  target \($0)" } ?? "")
            }
        }
        if format == .json {
            FileHandle.standardOutput.write(Data(document + [UInt8(ascii: "\n")]))
        } else {
            for l in lines { say(l) }
        }
    }

    private func required(_ s: String?, _ name: String) throws -> UserID {
        guard let s else { throw CLIError("\(kind.rawValue) needs \(name)") }
        return try uuid(s, name)
    }

    private func dates() throws -> (String, String) {
        guard let from else { throw CLIError("\(kind.rawValue) needs --from DATE") }
        let a = String(from.prefix(10))
        return (a, to.map { String($0.prefix(10)) } ?? a)
    }

    private func time(_ s: String?) throws -> Timestamp? {
        guard let s else { return nil }
        if let t = Timestamp(rfc3339: s) ?? Timestamp(rfc3339: s + "T00:00:00Z") { return t }
        throw CLIError("not a time: use RFC 3339 (2025-01-01T08:00:00Z) or a date (2025-01-01)")
    }

    private func parseAsOf(_ s: String) throws -> AsOf {
        if let n = UInt64(s) { return .sequence(n) }
        if let t = try time(s) { return .time(t) }
        throw CLIError("--as-of takes a sequence number or a time")
    }
}

func uuid(_ s: String, _ option: String) throws -> UUID128 {
    guard let u = UUID128(s) else { throw CLIError("\(option) must be a UUID") }
    return u
}

func seconds(_ micros: Int64) -> String {
    let s = micros / 1_000_000
    return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
}

func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? s + fill : fill + s
}

func shortValue(_ v: Value) -> String {
    switch v {
    case .string(let s): s.count > 60 ? String(s.prefix(57)) + "…" : s
    case .int(let i): "\(i)"
    case .uuid(let u): u.description
    case .time(let t): t.description
    case .bool(let b): "\(b)"
    case .double(let d): "\(d)"
    case .null: "null"
    case .fields(let fs): "{" + fs.map { "\($0.key.name)=\(shortValue($0.value))" }.joined(separator: " ") + "}"
    }
}
