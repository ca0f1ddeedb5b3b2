import Foundation
import LogbookCore
import LogbookTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `logbook serve` as a real process on a real socket.
///
/// `@unchecked Sendable`: every stored property is set in `init` and never reassigned; the
/// clients only read `port` and the collected output (itself lock-protected).
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let output = OutputCollector()
    let port: Int
    let exit: ChildExit

    init(data: String) throws {
        let bin = try #require(logbookBinary(), "build the logbook executable first (tools/test does)")
        port = Int.random(in: 20_000...60_000)
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:\(port)"]
        process.standardOutput = output.pipe
        process.standardError = FileHandle.nullDevice
        exit = try process.start()
    }

    /// A server its test left running (it failed early) goes with it.
    deinit { if !exit.hasExited { kill(process.processIdentifier, SIGKILL) } }

    /// Sends `signal` and waits for the server to exit.
    func stop(_ signal: Int32) async throws {
        kill(process.processIdentifier, signal)
        try await exit.wait(limit: .seconds(120))
    }

    /// Waits until the server answers /healthz.
    func waitUntilReady() async throws {
        for _ in 0..<200 {
            if let (_, r) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!),
                (r as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the server did not become ready: \(output.text)")
        throw CancellationError()
    }

    func token(_ kind: String) -> String? {
        output.text.split(separator: "\n").first { $0.contains("\(kind) token:") }
            .flatMap { $0.split(separator: " ").last.map(String.init) }
    }

    func request(_ method: String, _ path: String, token: String, body: String? = nil) async throws -> (Int, Data) {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = method
        r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
            r.httpBody = Data(body.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}

@Suite("logbook serve as a process", .serialized)
struct ServeProcessTests {
    static func batch(_ start: Int, _ n: Int) -> (String, [String]) {
        let ids = (start..<(start + n)).map { i in
            UUID128(high: 0x7777_0000_0000_4000 | UInt64(i) << 16, low: 0x8000_0000_0000_0000 | UInt64(i)).description
        }
        let events = ids.map {
            #"{"id":"\#($0)","type":"activity.window","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T08:00:00Z","duration":1,"data":{"app":"Code","title":"x"}}"#
        }
        return ("[" + events.joined(separator: ",") + "]", ids)
    }

    @Test("every event acknowledged over HTTP survives SIGKILL of the server, exactly once, in dense sequences")
    func killServer() async throws {
        let dir = TemporaryDirectory("logbook-serve")
        let first = try ServerProcess(data: dir.path)
        try await first.waitUntilReady()
        let agent = try #require(first.token("agent"))
        let admin = try #require(first.token("admin"))
        // Several clients post batches; the server is killed while they are in flight.
        let acked = AckLog()
        let clients = Task {
            await withTaskGroup(of: Void.self) { group in
                for c in 0..<4 {
                    group.addTask {
                        for b in 0..<1000 {
                            let (body, ids) = Self.batch(c * 1_000_000 + b * 50, 50)
                            guard
                                let (status, data) = try? await first.request(
                                    "POST", "/v1/events", token: agent, body: body),
                                status == 200
                            else { return }
                            acked.record(ids: ids, response: data)
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(700))
        // On a loaded machine (every suite runs in parallel) the first commit may take longer:
        // kill only once something was acknowledged, while the clients keep posting.
        for _ in 0..<200 where acked.all.count < 50 { try await Task.sleep(for: .milliseconds(100)) }
        try await first.stop(SIGKILL)
        await clients.value
        #expect(first.process.terminationReason == .uncaughtSignal)
        let acknowledged = acked.all
        #expect(acknowledged.count >= 50, "no batch was acknowledged before the kill")

        let second = try ServerProcess(data: dir.path)
        try await second.waitUntilReady()
        var stored: [String: Int] = [:]
        var next = 1
        var expected = 1
        for _ in 0..<10_000 {  // bounded: a cursor that never ends must fail, not loop
            let (status, data) = try await second.request("GET", "/v1/events?from_seq=\(next)&limit=5000", token: admin)
            #expect(status == 200)
            let page = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            for e in page?["events"] as? [[String: Any]] ?? [] {
                let seq = e["seq"] as? Int ?? -1
                #expect(seq == expected, "sequences must be dense")
                expected = seq + 1
                let id = e["id"] as? String ?? ""
                #expect(stored[id] == nil, "event \(id) stored twice")
                stored[id] = seq
            }
            guard let n = page?["next_from_seq"] as? Int else { break }
            next = n
        }
        for (id, seq) in acknowledged { #expect(stored[id] == seq, "acknowledged event \(id) (seq \(seq)) is missing") }
        // SIGTERM drains and exits 0.
        try await second.stop(SIGTERM)
        #expect(second.process.terminationReason == .exit)
        #expect(second.process.terminationStatus == 0)
    }
}

/// Acknowledged ids and their sequences, from 200 responses.
final class AckLog: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var acks: [String: Int] = [:]

    func record(ids: [String], response: Data) {
        guard let body = try? JSONSerialization.jsonObject(with: response) as? [String: Any],
            let results = body["results"] as? [[String: Any]], results.count == ids.count
        else { return }
        lock.withLock {
            for (id, r) in zip(ids, results) { if let seq = r["seq"] as? Int { acks[id] = seq } }
        }
    }

    var all: [String: Int] { lock.withLock { acks } }
}
