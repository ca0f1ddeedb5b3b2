import Foundation
import LogbookTestSupport
import Testing

/// `logbook projections`, `query`, `export` and `replay --projection` end to end.
@Suite("Projection commands", .serialized)
struct ProjectionCLITests {
    static let user = "7701450c-9fcc-4615-af41-84ecc34da45f"
    static let manager = "1296274c-fba4-456e-acf5-7e0aaec7cd82"
    let lines = [
        #"{"id":"523136e5-0b60-4708-ac1e-3cb2c9fba433","tenant":"t020","type":"user.invited","user":"\#(user)","ts":"2025-01-01T08:00:01.107Z","data":{"email":"anna32@massive.co.uk","role":"employee","manager":"\#(manager)"}}"#,
        #"{"id":"318274a4-4a93-4f80-a96c-42d9ae206387","tenant":"t020","type":"activity.window","user":"\#(user)","ts":"2025-01-01T08:00:02.107Z","duration":3.683,"data":{"app":"Slack","title":"design - Slack"}}"#,
        #"{"id":"e94892af-24d3-4ac0-aaa8-92d9451a4cb8","tenant":"t020","type":"event.retracted","user":"\#(user)","ts":"2025-01-01T08:00:05.935Z","data":{"target":"318274a4-4a93-4f80-a96c-42d9ae206387","reason":"not work related"}}"#,
        #"{"id":"34931464-e014-47e0-a169-b252babc3e96","tenant":"t020","type":"activity.window","user":"\#(user)","ts":"2025-01-01T08:00:06.000Z","duration":30,"data":{"app":"Code","title":"=cmd|' /C calc'!A0"}}"#,
        #"{"id":"1a75b887-a62e-4f67-a59d-f50ab5ee5e27","tenant":"t020","type":"event.corrected","user":"\#(user)","ts":"2025-01-01T08:01:40.513Z","data":{"target":"34931464-e014-47e0-a169-b252babc3e96","set":{"app":"Editor"}}}"#,
    ]

    func load() throws -> (TemporaryDirectory, String) {
        let dir = TemporaryDirectory()
        let file = dir.path + "/in.ndjson"
        try lines.joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
        let data = dir.path + "/data"
        let (status, out, err) = try runLogbook(["ingest", "--data", data, file])
        #expect(status == 0, "\(err)")
        #expect(out.contains("ingested 5 events"))
        return (dir, data)
    }

    func json(_ s: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }

    @Test("query timeline, daily, team and audit answer from the projections, corrections applied")
    func queries() throws {
        let (dir, data) = try load()
        defer { withExtendedLifetime(dir) {} }  // the directory goes when `dir` does
        let base = ["--data", data, "--tenant", "t020"]
        let (ts, timeline, terr) = try runLogbook(["query", "timeline"] + base + ["--user", Self.user])
        #expect(ts == 0, "\(terr)")
        let items = try #require(try json(timeline)["items"] as? [[String: Any]])
        #expect(items.map { $0["type"] as? String } == ["user.invited", "activity.window"])
        #expect((items[1]["data"] as? [String: Any])?["app"] as? String == "Editor")
        #expect(
            items[1]["events"] as? [String] == [
                "34931464-e014-47e0-a169-b252babc3e96", "1a75b887-a62e-4f67-a59d-f50ab5ee5e27",
            ])

        let (ds, daily, _) = try runLogbook(["query", "daily"] + base + ["--user", Self.user, "--from", "2025-01-01"])
        #expect(ds == 0)
        let day = try #require((try json(daily)["days"] as? [[String: Any]])?.first)
        #expect(day["active_seconds"] as? Double == 30)
        #expect((day["apps"] as? [String: Any])?.keys.sorted() == ["Editor"])

        let (ms, team, _) = try runLogbook(
            ["query", "team"] + base + ["--team", Self.manager, "--from", "2025-01-01", "--to", "2025-01-31"])
        #expect(ms == 0)
        let members = try #require((try json(team)["team"] as? [String: Any])?["members"] as? [[String: Any]])
        #expect(members.compactMap { $0["user"] as? String } == [Self.manager, Self.user])

        let (as_, audit, _) = try runLogbook(["query", "audit"] + base + ["--order", "oldest", "--format", "table"])
        #expect(as_ == 0)
        #expect(audit.split(separator: "\n").count == 3)  // invited, retracted, corrected
        #expect(audit.contains("target 318274a4-4a93-4f80-a96c-42d9ae206387"))

        // As of sequence 2, the retracted sample is still there and nothing was corrected.
        let (os, old, _) = try runLogbook(["query", "timeline"] + base + ["--user", Self.user, "--as-of", "2"])
        #expect(os == 0)
        let oldItems = try #require(try json(old)["items"] as? [[String: Any]])
        #expect((oldItems.last?["data"] as? [String: Any])?["app"] as? String == "Slack")

        // Bad arguments: one clear line, non-zero exit.
        for args in [
            ["query", "timeline"] + base, ["query", "daily"] + base + ["--user", Self.user],
            ["query", "timeline"] + base + ["--user", "nope"],
            ["query", "daily"] + base + ["--user", Self.user, "--from", "2025-02-01", "--to", "2025-01-01"],
        ] {
            let (status, _, err) = try runLogbook(args)
            #expect(status != 0)
            #expect(err.split(separator: "\n").count == 1, "\(err)")
        }
    }

    @Test("export writes everything about one person as JSON and as CSV (formula-safe)")
    func export() throws {
        let (dir, data) = try load()
        defer { withExtendedLifetime(dir) {} }  // the directory goes when `dir` does
        let base = ["export", "--data", data, "--tenant", "t020", "--user", Self.user]
        let (js, out, _) = try runLogbook(base)
        #expect(js == 0)
        let doc = try json(out)
        #expect((doc["events"] as? [Any])?.count == 5)  // raw events, corrections and retraction included
        #expect((doc["timeline"] as? [Any])?.count == 2)
        #expect((doc["daily"] as? [Any])?.count == 1)
        let (cs, csv, _) = try runLogbook(base + ["--format", "csv"])
        #expect(cs == 0)
        let rows = csv.split(separator: "\n")
        #expect(rows.first == "record,seq,id,type,time,end,seconds,data,events")
        #expect(rows.filter { $0.hasPrefix("event,") }.count == 5)
        #expect(rows.filter { $0.hasPrefix("timeline,") }.count == 2)
        #expect(!csv.contains(",=cmd"))  // a title that looks like a formula is not left bare
    }

    @Test("projections status shows the checkpoint; replay --projection rebuilds and switches generation")
    func rebuild() throws {
        let (dir, data) = try load()
        defer { withExtendedLifetime(dir) {} }  // the directory goes when `dir` does
        let (s1, before, _) = try runLogbook(["projections", "status", "--data", data])
        #expect(s1 == 0)
        #expect(before.contains("t020"))
        let (rs, out, err) = try runLogbook(["replay", "--data", data, "--tenant", "t020", "--projection", "timeline"])
        #expect(rs == 0, "\(err)")
        #expect(out.contains("rebuilt the projections of t020 through sequence 5"))
        let (_, after, _) = try runLogbook(["projections", "status", "--data", data, "--tenant", "t020"])
        let row = try #require(after.split(separator: "\n").last).split(separator: " ")
        #expect(row[1] == "2" && row[2] == "5" && row[3] == "5" && row[4] == "0")
        let (bad, _, berr) = try runLogbook(["replay", "--data", data, "--tenant", "t020", "--projection", "nope"])
        #expect(bad != 0)
        #expect(berr.contains("unknown projection"))

        // Every tenant at once: generation 2 becomes 1 again for t020, 2 for the others.
        let (ra, aout, aerr) = try runLogbook(["replay", "--data", data, "--all-tenants", "--projection", "all"])
        #expect(ra == 0, "\(aerr)")
        #expect(aout.contains("rebuilt the projections of \(before.split(separator: "\n").count - 1) tenants"))
        let (_, all, _) = try runLogbook(["projections", "status", "--data", data])
        for line in all.split(separator: "\n").dropFirst() {
            let cols = line.split(separator: " ")
            #expect(cols[1] == (cols[0] == "t020" ? "1" : "2") && cols[4] == "0", "\(line)")
        }
        for (args, message) in [
            (["--all-tenants"], "add --projection"),
            (["--all-tenants", "--tenant", "t020", "--projection", "all"], "not both"),
            (["--projection", "all"], "--tenant is required"),
            (["--all-tenants", "--projection", "all", "--concurrency", "0"], "at least 1"),
        ] {
            let (code, _, e) = try runLogbook(["replay", "--data", data] + args)
            #expect(code != 0 && e.contains(message), "\(args): \(e)")
        }
    }
}
