import Foundation
import LogbookCore
import LogbookTestSupport
import Testing

// Nested in the serialized server suite, so that it never runs beside the SIGKILL test: that test
// needs acknowledgements within 0.7 s from a debug server, and a second server under load beside it
// made it miss them on this 2-core machine.
extension ServeProcessTests {
    @Suite("logbook load against logbook serve", .serialized)
    struct LoadTests {
        /// `count` valid activity events, alternating between two users of which the first is in `acme` and the
        /// second in `globex`, so that two thirds go to acme.
        static func workload(_ count: Int) -> (text: String, perTenant: [String: Int]) {
            var lines: [String] = []
            var perTenant: [String: Int] = [:]
            // Random ids, as agents make them: ids that share their leading bits all land in one bucket of the
            // server's dedup index, and each append then checks every one of them.
            var g = SeededGenerator(seed: 7)
            for i in 0..<count {
                let tenant = i % 3 == 2 ? "globex" : "acme"
                perTenant[tenant, default: 0] += 1
                let id = UUID128.random(using: &g)
                let user = tenant == "acme" ? EventFactory.user(1) : EventFactory.user(2)
                let second = String(format: "%02d", i % 60)
                lines.append(
                    #"{"id":"\#(id)","tenant":"\#(tenant)","type":"activity.window","user":"\#(user)","ts":"2025-01-01T08:00:\#(second).000Z","duration":1.5,"data":{"app":"Code","title":"main.swift — logbook"}}"#
                )
            }
            return (lines.joined(separator: "\n") + "\n", perTenant)
        }

        /// The load generator's last line, the JSON summary.
        static func summary(_ out: String) throws -> [String: Any] {
            let last = try #require(out.split(separator: "\n").last, "no output")
            return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        }

        @Test(
            "every event of the file is acknowledged once; a second run only finds duplicates; stats shows the events")
        func loadAcknowledgesEveryEvent() async throws {
            let dir = TemporaryDirectory("logbook-load")
            let data = dir.path + "/data"
            let (cs, created, cerr) = try runLogbook(["tenants", "create", "acme", "globex", "--data", data])
            #expect(cs == 0, "\(cerr)")
            #expect(created.split(separator: "\n").count == 2)
            let tokens = dir.path + "/tokens.ndjson"
            try created.write(toFile: tokens, atomically: false, encoding: .utf8)
            let (text, perTenant) = Self.workload(301)
            let file = dir.path + "/events.ndjson"
            try text.write(toFile: file, atomically: false, encoding: .utf8)

            let server = try ServerProcess(data: data)
            try await server.waitUntilReady()
            let url = "http://127.0.0.1:\(server.port)"
            // More agents than tenants, and a batch that leaves a short last request for each tenant.
            let (status, out, err) = try runLogbook([
                "load", "--url", url, "--file", file, "--tokens", tokens, "--agents", "5", "--batch", "32",
            ])
            #expect(status == 0, "\(err)")
            let first = try Self.summary(out)
            #expect(first["events"] as? Int == 301)
            #expect(first["appended"] as? Int == 301)
            #expect(first["duplicates"] as? Int == 0)
            #expect(first["requests"] as? Int == 7 + 4)  // acme: 201 events in 7 requests, globex: 100 in 4
            #expect((first["errors"] as? [String: Any])?.isEmpty == true)

            // The same events again, on a schedule this time: all duplicates, still acknowledged.
            let (s2, out2, err2) = try runLogbook([
                "load", "--url", url, "--file", file, "--tokens", tokens, "--agents", "2", "--batch", "100",
                "--rate", "3000",
            ])
            #expect(s2 == 0, "\(err2)")
            let second = try Self.summary(out2)
            #expect(second["events"] as? Int == 301)
            #expect(second["appended"] as? Int == 0)
            #expect(second["duplicates"] as? Int == 301)

            try await server.stop(SIGTERM)
            for (tenant, count) in perTenant {
                let (ss, stats, _) = try runLogbook(["stats", "--data", data, "--tenant", tenant])
                #expect(ss == 0)
                let row = stats.split(separator: "\n").first { $0.hasPrefix(tenant + " ") }
                #expect(row?.split(separator: " ").dropFirst().first == "\(count)", "\(stats)")
            }
        }

        @Test("refused requests are counted by status, --events limits the events sent, and the exit status is 1")
        func refusalsAreCounted() async throws {
            let dir = TemporaryDirectory("logbook-load")
            let data = dir.path + "/data"
            let (cs, created, _) = try runLogbook(["tenants", "create", "acme", "globex", "--data", data])
            #expect(cs == 0)
            // globex's token is replaced by one the server does not know.
            let tokens = dir.path + "/tokens.ndjson"
            let forged = created.split(separator: "\n").map { line in
                line.contains(#""tenant":"globex""#)
                    ? #"{"tenant":"globex","agent_token":"lbk_globex_\#(String(repeating: "0", count: 64))"}"#
                    : String(line)
            }
            try forged.joined(separator: "\n").write(toFile: tokens, atomically: false, encoding: .utf8)
            let file = dir.path + "/events.ndjson"
            try Self.workload(90).text.write(toFile: file, atomically: false, encoding: .utf8)

            let server = try ServerProcess(data: data)
            try await server.waitUntilReady()
            let (status, out, _) = try runLogbook([
                "load", "--url", "http://127.0.0.1:\(server.port)", "--file", file, "--tokens", tokens,
                "--agents", "2", "--batch", "10", "--events", "60",
            ])
            #expect(status == 1)
            let s = try Self.summary(out)
            #expect(s["events"] as? Int == 40)  // the first 60 lines: 40 acme, 20 globex
            #expect((s["errors"] as? [String: Any])?["401"] as? Int == 2)
            #expect(!out.contains("lbk_"), "the output must not show tokens")
            try await server.stop(SIGTERM)
        }

        @Test("a tenant without a token and an unreachable server are one-line errors")
        func setupErrors() throws {
            let dir = TemporaryDirectory("logbook-load")
            let file = dir.path + "/events.ndjson"
            try Self.workload(3).text.write(toFile: file, atomically: false, encoding: .utf8)
            let tokens = dir.path + "/tokens.ndjson"
            try #"{"tenant":"acme","agent_token":"lbk_acme_x"}"#.write(
                toFile: tokens, atomically: false, encoding: .utf8)
            let (s1, _, e1) = try runLogbook(["load", "--file", file, "--tokens", tokens])
            #expect(s1 != 0)
            #expect(e1.contains("no agent token for tenant globex"))
            #expect(e1.split(separator: "\n").count == 1)

            try #"{"tenant":"acme","agent_token":"a"}{"tenant":"globex","agent_token":"b"}"#.write(
                toFile: tokens, atomically: false, encoding: .utf8)
            let (s2, _, e2) = try runLogbook(["load", "--file", file, "--tokens", tokens])
            #expect(s2 != 0)
            #expect(e2.contains("line 1"))

            try "{\"tenant\":\"acme\",\"agent_token\":\"a\"}\n{\"tenant\":\"globex\",\"agent_token\":\"b\"}\n".write(
                toFile: tokens, atomically: false, encoding: .utf8)
            // Port 1 on loopback: nothing listens there.
            let (s3, _, e3) = try runLogbook([
                "load", "--url", "http://127.0.0.1:1", "--file", file, "--tokens", tokens,
            ])
            #expect(s3 != 0)
            #expect(e3.contains("cannot connect to 127.0.0.1:1"))
        }
    }
}
