import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookJSON
import LogbookServer
import LogbookTestSupport
import NIOCore
import Testing

/// A small history for acme: a manager and an employee, an hourly rate, two windows of the
/// employee (one corrected, one retracted) and a clock-in.
enum History {
    static let employee = "6b9f2ec5-1cfd-4033-aa22-a9dc692301fc"
    static let manager = "0c5f7f50-3f0e-4c43-9a53-1f0c4b1d2e3f"
    static let other = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"

    static func id(_ i: Int) -> String {
        UUID128(high: 0x7777_0000_0000_4000 | UInt64(i) << 16, low: 0x8000_0000_0000_0000 | UInt64(i)).description
    }

    static func line(
        _ i: Int, _ type: String, user: String?, ts: String, duration: Double? = nil, _ data: String
    )
        -> String
    {
        let u = user.map { #""user":"\#($0)","# } ?? ""
        let d = duration.map { #""duration":\#($0),"# } ?? ""
        return #"{"id":"\#(id(i))","type":"\#(type)",\#(u)"ts":"\#(ts)",\#(d)"data":\#(data)}"#
    }

    /// Sequences 1-6.
    static let first = [
        line(1, "user.invited", user: manager, ts: "2025-01-01T07:00:00Z", #"{"email":"m@x","role":"manager"}"#),
        line(
            2, "user.invited", user: employee, ts: "2025-01-01T07:00:01Z",
            #"{"email":"e@x","role":"employee","manager":"\#(manager)"}"#),
        line(
            3, "settings.changed", user: nil, ts: "2025-01-01T07:00:02Z",
            #"{"key":"hourly_rates","value":{"default":10}}"#),
        line(4, "attendance.clock_in", user: employee, ts: "2025-01-01T07:59:00Z", "{}"),
        line(
            5, "activity.window", user: employee, ts: "2025-01-01T08:00:00Z", duration: 3600,
            #"{"app":"Code","title":"secret plan"}"#),
        line(
            6, "activity.window", user: employee, ts: "2025-01-01T10:00:00Z", duration: 1800,
            #"{"app":"Slack","title":"general chat"}"#),
    ]
    /// Sequences 7-8: event 5 corrected, event 6 retracted.
    static let second = [
        line(
            7, "event.corrected", user: employee, ts: "2025-01-01T12:00:00Z",
            #"{"target":"\#(id(5))","set":{"title":"(private)"}}"#),
        line(
            8, "event.retracted", user: employee, ts: "2025-01-01T12:00:01Z",
            #"{"target":"\#(id(6))","reason":"not work related"}"#),
    ]
}

func number(_ v: JSONValue?) -> Double? {
    switch v {
    case .integer(let i)?: Double(i)
    case .double(let d)?: d
    default: nil
    }
}

func array(_ v: JSONValue?) -> [JSONValue] {
    if case .array(let a)? = v { return a }
    return []
}

func object(_ v: JSONValue?) -> JSONObject? {
    if case .object(let o)? = v { return o }
    return nil
}

@Suite("HTTP projections")
struct ProjectionRouteTests {
    /// Posts the history (as the admin: it sends several users' events); returns the last seq.
    func seed(_ client: some TestClientProtocol, _ f: Fixture) async throws -> Int64 {
        let a = try await send(
            client, .post, "/v1/events", token: f.admin, body: "[\(History.first.joined(separator: ","))]")
        #expect(results(try json(a.body)) == (1...6).map { "appended \($0)" })
        let b = try await send(
            client, .post, "/v1/events", token: f.admin, body: "[\(History.second.joined(separator: ","))]")
        #expect(results(try json(b.body)) == ["appended 7", "appended 8"])
        return 8
    }

    @Test("timeline: corrections applied, retracted events hidden; as_of gives the earlier state; paging")
    func timeline() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let last = try await seed(client, f)
            let r = try await send(
                client, .get, "/v1/timeline?user=\(History.employee)&wait_for_seq=\(last)", token: f.admin)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/json")
            let body = try json(r.body)
            let items = array(body["items"]).compactMap(object)
            #expect(
                items.map { $0["type"] } == [
                    .string("user.invited"), .string("attendance.clock_in"), .string("activity.window"),
                ])
            let window = items.last
            #expect(object(window?["data"])?["title"] == .string("(private)"))
            #expect(number(window?["duration"]) == 3600)
            #expect(array(window?["events"]) == [.string(History.id(5)), .string(History.id(7))])
            #expect(body["next"] == .null)
            let text = String(buffer: r.body)
            #expect(!text.contains("secret plan") && !text.contains("Slack"))

            // As of sequence 6: before the correction and the retraction.
            let before = try await send(
                client, .get, "/v1/timeline?user=\(History.employee)&as_of=6", token: f.admin)
            #expect(before.status == .ok)
            let beforeText = String(buffer: before.body)
            #expect(beforeText.contains("secret plan") && beforeText.contains("Slack"))
            #expect(array(try json(before.body)["items"]).count == 4)

            // Pages of one item, and a time window.
            var cursor: String?
            var seen: [JSONValue?] = []
            repeat {
                let after = cursor.map { "&after=\($0)" } ?? ""
                let page = try await send(
                    client, .get, "/v1/timeline?user=\(History.employee)&limit=1\(after)", token: f.admin)
                #expect(page.status == .ok)
                let o = try json(page.body)
                seen += array(o["items"]).map { object($0)?["start"] }
                if case .string(let next)? = o["next"] { cursor = next } else { cursor = nil }
            } while cursor != nil && seen.count < 10
            #expect(
                seen == [
                    .string("2025-01-01T07:00:01.000Z"), .string("2025-01-01T07:59:00.000Z"),
                    .string("2025-01-01T08:00:00.000Z"),
                ])
            let window2 = try await send(
                client, .get,
                "/v1/timeline?user=\(History.employee)&from=2025-01-01T07:59:30Z&to=2025-01-01T09:30:00Z",
                token: f.admin)
            #expect(array(try json(window2.body)["items"]).count == 1)
        }
    }

    @Test("daily figures, team with and without cost, audit paging and filters")
    func dailyTeamAudit() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let last = try await seed(client, f)
            let daily = try await send(
                client, .get, "/v1/daily?user=\(History.employee)&from=2025-01-01&to=2025-01-31&wait_for_seq=\(last)",
                token: f.admin)
            #expect(daily.status == .ok)
            let days = array(try json(daily.body)["days"]).compactMap(object)
            #expect(days.count == 1)
            #expect(days.first?["date"] == .string("2025-01-01"))
            #expect(number(days.first?["active_seconds"]) == 3600)
            #expect(array(days.first?["clock_in"]) == [.string("2025-01-01T07:59:00.000Z")])
            let dailyBefore = try await send(
                client, .get, "/v1/daily?user=\(History.employee)&from=2025-01-01&as_of=6", token: f.admin)
            #expect(
                number(array(try json(dailyBefore.body)["days"]).compactMap(object).first?["active_seconds"]) == 5400)

            let team = try await send(
                client, .get, "/v1/team?manager=\(History.manager)&from=2025-01-01&to=2025-01-31", token: f.admin)
            #expect(team.status == .ok)
            let report = object(try json(team.body)["team"])
            #expect(array(report?["members"]).count == 2)
            #expect(number(object(report?["totals"])?["active_seconds"]) == 3600)
            #expect(report?["cost"] == nil)
            #expect(!String(buffer: team.body).contains("cost"))
            let withCost = try await send(
                client, .get, "/v1/team?manager=\(History.manager)&from=2025-01-01&cost=true", token: f.admin)
            #expect(withCost.status == .ok)
            #expect(number(object(try json(withCost.body)["team"])?["cost"]) == 10)
            let agentCost = try await send(
                client, .get, "/v1/team?manager=\(History.manager)&from=2025-01-01&cost=true", token: f.agent)
            #expect(agentCost.status == .forbidden)

            // Audit (people, settings and corrections; not activity or attendance): pages of
            // three, oldest first, cover the audited sequences once.
            var seqs: [Int64] = []
            var after: String?
            for _ in 0..<5 {
                let uri = "/v1/audit?order=oldest&limit=3" + (after.map { "&after=\($0)" } ?? "")
                let page = try await send(client, .get, uri, token: f.admin)
                #expect(page.status == .ok)
                let o = try json(page.body)
                for r in array(o["records"]).compactMap(object) {
                    if case .integer(let s)? = r["seq"] { seqs.append(s) }
                }
                guard case .string(let next)? = o["next"] else { break }
                after = next
            }
            #expect(seqs == [1, 2, 3, 7, 8])
            let newest = try await send(client, .get, "/v1/audit?limit=2", token: f.admin)
            #expect(
                array(try json(newest.body)["records"]).compactMap { object($0)?["seq"] } == [.integer(8), .integer(7)])
            let corrections = try await send(
                client, .get, "/v1/audit?type=event.corrected&user=\(History.employee)", token: f.admin)
            let records = array(try json(corrections.body)["records"]).compactMap(object)
            #expect(records.count == 1)
            #expect(records.first?["target"] == .string(History.id(5)))
            #expect(object(records.first?["before"])?["title"] == .string("secret plan"))
            let asOf = try await send(client, .get, "/v1/audit?type=event.corrected&as_of=6", token: f.admin)
            #expect(array(try json(asOf.body)["records"]).isEmpty)
        }
    }

    @Test("export as JSON and CSV; projection status and rebuild")
    func exportAndStatus() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            _ = try await seed(client, f)
            let exported = try await send(client, .get, "/v1/export?user=\(History.employee)", token: f.admin)
            #expect(exported.status == .ok)
            #expect(exported.headers[.contentType] == "application/json")
            #expect(exported.headers[.contentDisposition]?.contains("attachment") == true)
            let o = try json(exported.body)
            #expect(o["user"] == .string(History.employee))
            #expect(array(o["events"]).count == 6)
            #expect(array(o["timeline"]).count == 3)
            #expect(array(o["daily"]).count == 1)
            let csv = try await send(client, .get, "/v1/export?user=\(History.employee)&format=csv", token: f.admin)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = String(buffer: csv.body).split(separator: "\n")
            #expect(lines.first == "record,seq,id,type,time,end,seconds,data,events")
            #expect(lines.filter { $0.hasPrefix("event,") }.count == 6)
            #expect(lines.filter { $0.hasPrefix("daily,") }.count == 1)

            // A small limit: 422, not a truncated export.
            var small = ServerConfiguration()
            small.maxExportBytes = 100
            let tiny = try buildApplication(configuration: small, store: f.store, logger: quietLogger)
            try await tiny.test(.router) { client in
                let r = try await send(client, .get, "/v1/export?user=\(History.employee)", token: f.admin)
                #expect(r.status == .unprocessableContent)
                #expect(r.headers[.contentType] == "application/problem+json")
            }

            let status = try await send(client, .get, "/v1/projections", token: f.admin)
            #expect(status.status == .ok)
            let s = try json(status.body)
            #expect(s["head"] == .integer(8) && s["checkpoint"] == .integer(8) && s["lag"] == .integer(0))
            guard case .integer(let generation)? = s["generation"] else {
                Issue.record("no generation")
                return
            }
            let rebuilt = try await send(client, .post, "/v1/projections/rebuild", token: f.admin)
            #expect(rebuilt.status == .ok)
            let r = try json(rebuilt.body)
            #expect(r["checkpoint"] == .integer(8))
            #expect(r["generation"] != .integer(generation))
            let agent = try await send(client, .post, "/v1/projections/rebuild", token: f.agent)
            #expect(agent.status == .forbidden)
        }
    }

    @Test("an agent token bound to a user reads that user's timeline, daily figures and export, nothing else")
    func ownData() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let acme = TenantID("acme")!
        let own = try f.store.issueToken(tenant: acme, role: .agent, user: UUID128(History.employee)!).token
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let last = try await seed(client, f)
            let e = History.employee, m = History.manager
            for uri in [
                "/v1/timeline?user=\(e)&wait_for_seq=\(last)", "/v1/daily?user=\(e)&from=2025-01-01",
                "/v1/export?user=\(e)", "/v1/export?user=\(e)&format=csv",
            ] {
                let r = try await send(client, .get, uri, token: own)
                #expect(r.status == .ok, "\(uri)")
            }
            for uri in [
                "/v1/timeline?user=\(m)", "/v1/daily?user=\(m)&from=2025-01-01", "/v1/export?user=\(m)",
                "/v1/timeline?user=\(History.other)", "/v1/timeline?user=\(e)&as_of=6",
                "/v1/daily?user=\(e)&from=2025-01-01&as_of=6", "/v1/team?manager=\(m)&from=2025-01-01",
                "/v1/team?manager=\(e)&from=2025-01-01", "/v1/audit?user=\(e)", "/v1/projections",
            ] {
                let r = try await send(client, .get, uri, token: own)
                #expect(r.status == .forbidden, "\(uri)")
                #expect(!String(buffer: r.body).contains("secret"))
            }
            // An unbound agent token reads nothing, not even with a user.
            let unbound = try await send(client, .get, "/v1/timeline?user=\(e)", token: f.agent)
            #expect(unbound.status == .forbidden)
            // Once the user is deactivated, their token reads nothing either.
            let deactivate = History.line(
                20, "user.deactivated", user: e, ts: "2025-01-02T09:00:00Z", #"{"reason":"left"}"#)
            let d = try await send(client, .post, "/v1/events", token: f.admin, body: "[\(deactivate)]")
            #expect(d.status == .ok)
            let after = try await send(client, .get, "/v1/timeline?user=\(e)&wait_for_seq=9", token: own)
            #expect(after.status == .forbidden)
        }
    }

    @Test("bad parameters are 400 problems naming the parameter, never echoing the value")
    func badParameters() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            _ = try await seed(client, f)
            let e = History.employee, m = History.manager
            let cases: [(String, String)] = [
                ("/v1/timeline", "user"),
                ("/v1/timeline?user=lbk_acme_SECRETVALUE", "user"),
                ("/v1/timeline?user=\(e)&from=SECRETVALUE", "from"),
                ("/v1/timeline?user=\(e)&from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "from"),
                ("/v1/timeline?user=\(e)&limit=0", "limit"),
                ("/v1/timeline?user=\(e)&limit=10001", "limit"),
                ("/v1/timeline?user=\(e)&limit=SECRETVALUE", "limit"),
                ("/v1/timeline?user=\(e)&after=SECRETVALUE", "after"),
                ("/v1/timeline?user=\(e)&as_of=SECRETVALUE", "as_of"),
                ("/v1/timeline?user=\(e)&wait_for_seq=0", "wait_for_seq"),
                ("/v1/timeline?user=\(e)&wait_for_seq=99", "wait_for_seq"),
                ("/v1/timeline?user=\(e)&wait_for_seq=1&wait_timeout=31", "wait_timeout"),
                ("/v1/timeline?user=\(e)&wait_timeout=2", "wait_timeout"),
                ("/v1/timeline?user=\(e)&user=\(m)", "user"),
                ("/v1/timeline?user=\(e)&colour=red", "colour"),
                ("/v1/daily?user=\(e)", "from"),
                ("/v1/daily?user=\(e)&from=SECRETVALUE", "from"),
                ("/v1/daily?user=\(e)&from=2025-13-01", "from"),
                ("/v1/daily?user=\(e)&from=2025-01-02&to=2025-01-01", "from"),
                ("/v1/daily?user=\(e)&from=2024-01-01&to=2025-12-31", "range"),
                ("/v1/team?from=2025-01-01", "manager"),
                ("/v1/team?manager=\(m)&from=2025-01-01&cost=SECRETVALUE", "cost"),
                ("/v1/audit?type=SECRETVALUE", "type"),
                ("/v1/audit?order=SECRETVALUE", "order"),
                ("/v1/audit?after=SECRETVALUE", "after"),
                ("/v1/audit?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "from"),
                ("/v1/audit?user=SECRETVALUE", "user"),
                ("/v1/export?user=\(e)&format=SECRETVALUE", "format"),
                ("/v1/export?user=\(e)&as_of=6", "as_of"),
                ("/v1/projections?lbk_acme_SECRETVALUE=1", "unknown query parameter"),
            ]
            for (uri, name) in cases {
                let r = try await send(client, .get, uri, token: f.admin)
                #expect(r.status == .badRequest, "\(uri)")
                #expect(r.headers[.contentType] == "application/problem+json", "\(uri)")
                let detail = try json(r.body)["detail"]
                guard case .string(let text)? = detail else {
                    Issue.record("no detail for \(uri)")
                    continue
                }
                #expect(text.contains(name), "\(uri): \(text)")
                #expect(!text.contains("SECRETVALUE"), "\(uri): \(text)")
            }
        }
    }
}
