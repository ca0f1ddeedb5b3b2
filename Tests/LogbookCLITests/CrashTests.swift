import Foundation
import LogbookCore
import LogbookTestSupport
import Testing

/// The `logbook` executable under test: $LOGBOOK_BIN (set by tools/test), else the debug build.
func logbookBinary() -> String? {
    if let bin = ProcessInfo.processInfo.environment["LOGBOOK_BIN"], FileManager.default.isExecutableFile(atPath: bin) {
        return bin
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let candidate = root.appendingPathComponent(".build/debug/logbook").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}

/// Collects a child's standard output on a background thread.
final class OutputCollector: @unchecked Sendable {
    // @unchecked: `data` is guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    let pipe = Pipe()

    init() {
        pipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let chunk = h.availableData
            // Empty at the end of the output: stop, or the handler is called again and again.
            guard !chunk.isEmpty else { return h.readabilityHandler = nil }
            guard let self else { return }
            self.lock.withLock { self.data.append(chunk) }
        }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    func stop() { pipe.fileHandleForReading.readabilityHandler = nil }
}

@Suite("Crash safety", .serialized)
struct CrashTests {
    @Test("SIGKILL at random moments loses no acknowledged event; sequences stay dense; the chain verifies")
    func killRepeatedly() async throws {
        let bin = try #require(logbookBinary(), "build the logbook executable first (tools/test does)")
        let dir = TemporaryDirectory("logbook-crash")
        var g = SeededGenerator(seed: 42)
        var acked: [String: [UInt64: String]] = [:]  // tenant -> seq -> id
        var totalAcked = 0
        for _ in 0..<12 {
            let out = OutputCollector()
            let child = Process()
            child.executableURL = URL(fileURLWithPath: bin)
            child.arguments = ["crash-child", "--data", dir.path]
            child.standardOutput = out.pipe
            child.standardError = FileHandle.nullDevice
            let exit = try child.start()
            // Let it get going, then kill it somewhere in the middle of its commits.
            let deadline = Date().addingTimeInterval(10)
            while !out.text.hasPrefix("ready") && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(50 + Int(g.next() % 400)))
            kill(child.processIdentifier, SIGKILL)
            try await exit.wait(limit: .seconds(60))
            try await Task.sleep(for: .milliseconds(20))
            out.stop()
            #expect(child.terminationReason == .uncaughtSignal)
            // Only complete lines count: the kill may cut the last one.
            let text = out.text
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n") ?? text.startIndex)])
            for line in complete.split(separator: "\n") where line.hasPrefix("ack ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, let seq = UInt64(parts[2]) else { continue }
                let tenant = String(parts[1])
                if let previous = acked[tenant]?[seq] {
                    #expect(previous == String(parts[3]), "sequence \(seq) of \(tenant) acknowledged for two ids")
                } else {
                    acked[tenant, default: [:]][seq] = String(parts[3])
                    totalAcked += 1
                }
            }
            try checkStore(dir.path, acked: acked)
        }
        #expect(totalAcked > 500, "the child acknowledged too little to make the test meaningful")
    }

    func checkStore(_ path: String, acked: [String: [UInt64: String]]) throws {
        let store = try LogStore(directory: path)
        defer { store.close() }
        for tenant in store.tenants() {
            var ids = Set<String>()
            var bySeq: [UInt64: String] = [:]
            var expected: UInt64 = 1
            try store.read(tenant) { e in
                #expect(e.sequence == expected, "sequences must be dense")
                expected = e.sequence + 1
                let id = e.id.description
                #expect(ids.insert(id).inserted, "event \(id) stored twice")
                bySeq[e.sequence] = id
                return true
            }
            for (seq, id) in acked[tenant.rawValue] ?? [:] {
                #expect(bySeq[seq] == id, "acknowledged event \(seq) of \(tenant) is missing or different")
            }
            let report = try store.verify(tenant)
            #expect(report.ok, "verify: \(String(describing: report.failure))")
        }
        for tenant in acked.keys { #expect(store.tenants().contains(TenantID(tenant)!)) }
    }
}
