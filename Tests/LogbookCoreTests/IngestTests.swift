import Foundation
import Testing
@testable import LogbookCore
import LogbookTestSupport

@Suite("Ingesting NDJSON files")
struct IngestTests {
    func line(_ i: Int, tenant: String = "acme") -> String {
        let id = UUID128(high: 0x1234_5678_0000_4000 | UInt64(i) << 16, low: 0x8000_0000_0000_0000 | UInt64(i))
        return
            #"{"id":"\#(id)","tenant":"\#(tenant)","type":"activity.window","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T08:00:00.043Z","duration":3.5,"data":{"app":"Code","title":"line \#(i)"}}"#
    }

    /// Writes `lines` to a file in `dir` and ingests it into `store` with an ingester set up
    /// by `configure`.
    func ingest(
        _ lines: [String], in dir: TemporaryDirectory, into store: LogStore, configure: (inout NDJSONIngester) -> Void
    ) throws -> NDJSONIngester.Report {
        let path = dir.path + "/in.ndjson"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var ingester = NDJSONIngester(store: store)
        configure(&ingester)
        return try ingester.ingest(path: path)
    }

    @Test(
        "lines split across read chunks (and parallel parts) are ingested whole, in order; rejections name the right line",
        arguments: [64, 300, 1 << 20], [1, 2, 3])
    func chunked(chunkBytes: Int, parallelism: Int) throws {
        let dir = TemporaryDirectory()
        var lines: [String] = []
        for i in 1...200 {
            switch i {
            case 17: lines.append(#"{"id":"not-a-uuid"}"#)
            case 120: lines.append("")
            case 121: lines.append(#"{"oops"#)
            case 150: lines.append(line(i).replacingOccurrences(of: #""tenant":"acme","#, with: ""))  // no tenant
            default: lines.append(line(i, tenant: i % 3 == 0 ? "beta" : "acme"))
            }
        }
        let store = try LogStore(directory: dir.path + "/data", options: testOptions())
        defer { store.close() }
        let report = try ingest(lines, in: dir, into: store) {
            $0.chunkBytes = chunkBytes
            $0.parallelism = parallelism
            $0.batchEvents = 7
        }
        if chunkBytes < 200 {
            // Every event line is longer than the chunk: each is refused once, none is half-read.
            #expect(report.appended == 0)
            #expect(report.rejected == report.lines)
            #expect(report.lines == 199)
            return
        }
        #expect(report.lines == 199)
        #expect(report.rejected == 3)
        #expect(report.rejections.map(\.line) == [17, 121, 150])
        #expect(report.rejections.last?.error.field == "tenant")
        #expect(report.appended == 196)
        var titles: [String] = []
        try store.read(TenantID("acme")!) { e in
            if case .string(let t)? = e[.title] { titles.append(t) }
            return true
        }
        let expected = (1...200).filter { $0 % 3 != 0 && ![17, 120, 121, 150].contains($0) }.map { "line \($0)" }
        #expect(titles == expected, "file order is kept within a tenant")
    }

    @Test(
        "a line longer than the reader can hold (twice the read chunk) is rejected alone; the lines around it are read whole",
        arguments: [300, 301, 4096])
    func overlongLine(chunkBytes: Int) throws {
        let dir = TemporaryDirectory()
        let long = line(3).replacingOccurrences(of: "line 3", with: String(repeating: "x", count: 900))
        var lines = (1...40).map { line($0) }
        lines[2] = long
        let store = try LogStore(directory: dir.path + "/data", options: testOptions())
        defer { store.close() }
        let report = try ingest(lines, in: dir, into: store) { $0.chunkBytes = chunkBytes }
        let held = long.utf8.count < chunkBytes
        #expect(report.lines == 40)
        #expect(report.rejections.map(\.line) == (held ? [] : [3]))
        #expect(report.appended == (held ? 40 : 39))
        var titles: [String] = []
        try store.read(TenantID("acme")!) { e in
            if case .string(let t)? = e[.title] { titles.append(t) }
            return true
        }
        #expect(titles.filter { !$0.hasPrefix("xxx") } == (1...40).filter { $0 != 3 }.map { "line \($0)" })
    }

    @Test("ingesting the same file twice stores nothing the second time")
    func twice() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/in.ndjson"
        try ((1...50).map { line($0) }.joined(separator: "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        let store = try LogStore(directory: dir.path + "/data", options: testOptions())
        defer { store.close() }
        let first = try NDJSONIngester(store: store).ingest(path: path)
        let second = try NDJSONIngester(store: store).ingest(path: path)
        #expect(first.appended == 50 && first.duplicates == 0)
        #expect(second.appended == 0 && second.duplicates == 50)
        #expect(try store.lastSequence(TenantID("acme")!) == 50)
    }

    @Test("a file's events reach the live projections: the same daily rows as events appended as objects give")
    func projectionsOfAFile() async throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/in.ndjson"
        try ((1...40).map { line($0) }.joined(separator: "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        var o = testOptions()
        o.projectionThreads = 1
        let fromFile = try LogStore(directory: dir.path + "/file", options: o)
        defer { fromFile.close() }
        #expect(try NDJSONIngester(store: fromFile).ingest(path: path).appended == 40)
        // The same events through the append API, as `Event`s.
        let appended = try LogStore(directory: dir.path + "/api", options: o)
        defer { appended.close() }
        let validator = EventValidator(now: Timestamp.now())
        let events = try (1...40).map { i in
            try Array(line(i).utf8).withUnsafeBytes { try validator.validate(line: $0).event }
        }
        _ = try await appended.append(events, to: TenantID("acme")!)
        let tenant = TenantID("acme")!
        let user = UUID128("6b9f2ec5-1cfd-4033-aa22-a9dc692301fc")!
        for store in [fromFile, appended] {
            #expect(try await store.waitForProjections(tenant, through: 40, timeout: .seconds(20)))
        }
        let rows = try fromFile.daily(tenant, user: user, from: "2025-01-01", to: "2025-01-01")
        #expect(!rows.isEmpty)
        #expect(rows == (try appended.daily(tenant, user: user, from: "2025-01-01", to: "2025-01-01")))
    }
}
