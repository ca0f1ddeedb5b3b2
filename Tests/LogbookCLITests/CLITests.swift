import Foundation
import LogbookTestSupport
import Testing

/// Runs the `logbook` executable and returns (exit status, stdout, stderr).
func runLogbook(_ arguments: [String]) throws -> (Int32, String, String) {
    let bin = try #require(logbookBinary(), "build the logbook executable first (tools/test does)")
    let r = try runChild(bin, arguments)
    return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
}

@Suite("The logbook command line", .serialized)
struct CLITests {
    let lines = [
        #"{"id":"34931464-e014-47e0-a169-b252babc3e96","tenant":"t014","type":"activity.window","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T08:00:00.043Z","duration":35.944,"data":{"app":"Code","title":"preview_preview.tsx — calendar-etl — Visual Studio Code"}}"#,
        #"{"id":"d0619e9c-7039-4a52-a426-429b4dc69700","tenant":"t014","type":"user.invited","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T07:59:59.043Z","data":{"email":"wen50@globex.de","role":"admin","manager":null}}"#,
        #"{"id":"de3c9da2-af31-4141-ac5c-fd5b8f9c59af","tenant":"t055","type":"activity.afk","user":"4affa00a-8cd0-4956-af5b-fd6dba6d550d","ts":"2025-01-01T08:00:04.690Z","duration":28.574,"data":{"status":"afk"}}"#,
    ]

    @Test("ingest, replay, stats and verify work end to end; replay writes the events back in the wire form")
    func endToEnd() throws {
        let dir = TemporaryDirectory()
        let file = dir.path + "/in.ndjson"
        try lines.joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
        let data = dir.path + "/data"
        let (status, out, _) = try runLogbook(["ingest", "--data", data, file])
        #expect(status == 0)
        #expect(out.contains("ingested 3 events (0 duplicates, 0 rejected)"))

        let (rs, replay, _) = try runLogbook(["replay", "--data", data, "--tenant", "t014"])
        #expect(rs == 0)
        let replayed = replay.split(separator: "\n")
        #expect(replayed.count == 2)
        #expect(
            replayed[0].hasPrefix(
                #"{"seq":1,"id":"34931464-e014-47e0-a169-b252babc3e96","tenant":"t014","type":"activity.window""#))
        #expect(
            replayed[0].contains(
                #""duration":35.944,"data":{"app":"Code","title":"preview_preview.tsx — calendar-etl — Visual Studio Code"}"#
            ))
        #expect(replayed[1].contains(#""data":{"email":"wen50@globex.de","role":"admin","manager":null}"#))

        let (ss, stats, _) = try runLogbook(["stats", "--data", data])
        #expect(ss == 0)
        #expect(stats.contains("t014") && stats.contains("t055") && stats.contains("total (2)"))

        let (vs, verify, _) = try runLogbook(["verify", "--data", data])
        #expect(vs == 0)
        #expect(verify.contains("verified 2 tenants, 2 blocks, 3 events: ok"))

        // Again: idempotent.
        let (s2, out2, _) = try runLogbook(["ingest", "--data", data, file])
        #expect(s2 == 0)
        #expect(out2.contains("ingested 0 events (3 duplicates, 0 rejected)"))
    }

    @Test("a rejected line is reported with its number, code and field, and the exit status is 1")
    func rejection() throws {
        let dir = TemporaryDirectory()
        let file = dir.path + "/in.ndjson"
        let bad = lines[0].replacingOccurrences(of: #""app":"Code""#, with: #""app":"Code","screenshot":"iVBORw0KGgo""#)
        try [lines[1], bad].joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
        let (status, out, err) = try runLogbook(["ingest", "--data", dir.path + "/data", file])
        #expect(status == 1)
        #expect(out.contains("ingested 1 events (0 duplicates, 1 rejected)"))
        #expect(err.contains("line 2: unknown_field at data.screenshot"))
        #expect(!err.contains("iVBORw0KGgo"), "error text must not echo the payload")
    }

    @Test(
        "errors are one line on stderr and a non-zero exit, never a stack trace",
        arguments: [
            (
                ["replay", "--data", "/nonexistent-logbook", "--tenant", "t1"],
                "no Logbook data in /nonexistent-logbook"
            ),
            (["replay", "--tenant", "BAD!"], "invalid tenant name"),
            (["ingest", "/nonexistent-file.ndjson"], "cannot read /nonexistent-file.ndjson"),
            (["verify", "--data", "/nonexistent-logbook"], "no Logbook data"),
            (
                ["serve", "--data", "/nonexistent-logbook", "--tls-cert", "c.pem"],
                "--tls-cert and --tls-key go together"
            ),
            (
                ["serve", "--data", "/nonexistent-logbook", "--operator-token-file", "/nonexistent-token"],
                "cannot read --operator-token-file /nonexistent-token"
            ),
            (
                ["serve", "--data", "/nonexistent-logbook", "--commit-threads", "0"],
                "--commit-threads must be at least 1"
            ),
            (
                ["serve", "--data", "/nonexistent-logbook", "--batch-window-us=2000000"],
                "--batch-window-us must be between 0 and 1000000"
            ),
            (
                ["serve", "--data", "/nonexistent-logbook", "--projection-interval-ms=-1"],
                "--projection-interval-ms must be between 0 and 10000"
            ),
            (
                ["serve", "--data", "/nonexistent-logbook", "--projection-defer-ms=20000"],
                "--projection-defer-ms must be between 0 and 10000"
            ),
            (
                ["serve", "--data", "/nonexistent-logbook", "--max-committed-events-in-memory=-5"],
                "--max-committed-events-in-memory must not be negative"
            ),
        ])
    func errors(arguments: [String], message: String) throws {
        let (status, _, err) = try runLogbook(arguments)
        #expect(status != 0)
        #expect(err.contains(message))
        #expect(err.split(separator: "\n").count <= 2)
        #expect(!err.contains("Backtrace") && !err.contains("Fatal error"))
    }

    @Test("verify names the first tampered block and exits 1")
    func verifyTamper() throws {
        let dir = TemporaryDirectory()
        let file = dir.path + "/in.ndjson"
        try lines.joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
        let data = dir.path + "/data"
        _ = try runLogbook(["ingest", "--data", data, file])
        // Flip the last byte of t055's only block, found by its id bytes in the data file.
        let path = data + "/tenants/t055/data.mdb"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // Format 2, codec 2 (ids, then zstd), 1 event, first sequence 1.
        let header: [UInt8] = [2, 2, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        let at = try #require((0..<(bytes.count - 200)).first { bytes[$0..<($0 + 16)].elementsEqual(header) })
        let bodySize = Int(bytes[at + 60]) | Int(bytes[at + 61]) << 8
        bytes[at + 160 + bodySize / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (status, out, _) = try runLogbook(["verify", "--data", data])
        #expect(status == 1)
        #expect(out.contains("tenant t055: FAILED at block 1"))
        #expect(out.contains("verified 2 tenants") && out.contains("1 FAILED"))
    }
}
