import Foundation
import LogbookCore
import LogbookJSON
import Synchronization

/// `tools/bench core`: durable ingest through the append API, ingest from the NDJSON file,
/// replay, bytes per event and peak RSS on the standard workload. Release builds only.
///
/// Usage: CoreBenchmark WORKLOAD.ndjson SCRATCH_DIR
@main
enum CoreBenchmark {
    static func main() throws {
        let args = CommandLine.arguments
        if args.count == 4 && args[1] == "--file-ingest" {
            return try fileIngestChild(workload: args[2], directory: args[3])
        }
        if args.count == 4 && args[1] == "--replay-only", let rounds = Int(args[3]) {
            // For profiling the replay alone, on the `api` store a full run left behind.
            let store = try LogStore(directory: args[2], options: LogStore.Options())
            for _ in 0..<rounds {
                let (n, seconds) = replayAll(store)
                log(String(format: "replay: %.0f events/s (%d events, %.2f s)", Double(n) / seconds, n, seconds))
            }
            store.close()
            return
        }
        guard args.count == 3 else {
            FileHandle.standardError.write(Data("usage: CoreBenchmark WORKLOAD.ndjson SCRATCH_DIR\n".utf8))
            exit(2)
        }
        let workload = args[1]
        let scratch = args[2]
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

        // 1. Durable ingest through the append API: events already decoded, commits of up to
        //    1,000 events per tenant, batches submitted in workload order.
        //    The workload is decoded once, outside any measurement, a batch at a time: first the
        //    lines of each batch, then each batch's events together, as a request body's would
        //    be. Decoded in workload order, one batch's events lay among the other tenants',
        //    spread over a hundred times the memory — a layout no caller of the append API has.
        let data = try Data(contentsOf: URL(fileURLWithPath: workload), options: .alwaysMapped)
        let validator = EventValidator(now: Timestamp.now())
        var chunks: [(TenantID, [Event])] = []
        data.withUnsafeBytes { buffer in
            var lines: [(TenantID, [Range<Int>])] = []
            var open: [TenantID: [Range<Int>]] = [:]
            for (_, line) in NDJSONLines(buffer) where line.count > 1 {
                guard let t = (try? validator.validate(line: line))?.tenant else { continue }
                let start = line.baseAddress! - buffer.baseAddress!
                open[t, default: []].append(start..<start + line.count)
                if open[t]!.count == 1000 { lines.append((t, open.removeValue(forKey: t)!)) }
            }
            for (t, ranges) in open.sorted(by: { $0.key < $1.key }) { lines.append((t, ranges)) }
            chunks = lines.map { t, ranges in
                (t, ranges.map { try! validator.validate(line: UnsafeRawBufferPointer(rebasing: buffer[$0])).event })
            }
        }
        let n = chunks.reduce(0) { $0 + $1.1.count }
        log("workload: \(n) events, \(data.count) bytes")
        // Peak RSS is reported for the engine's phases: reset the high-water mark now that the
        // input is decoded (Linux: writing 5 to clear_refs resets VmHWM). The decoded input
        // itself stays resident during the append phase and is counted.
        if ProcessInfo.processInfo.environment["LOGBOOK_BENCH_ENCODE_ONLY"] != nil {
            // For profiling what `submit` does on the caller's thread: the events' encoding.
            for _ in 0..<3 {
                let c0 = cpuSeconds(thread: true)
                var bytes = 0
                for (_, events) in chunks { bytes += encode(events) }
                log(
                    String(
                        format: "encoding: %.0f ns/event (%d)", (cpuSeconds(thread: true) - c0) * 1e9 / Double(n), bytes
                    ))
            }
            return
        }
        resetPeakRSS()
        var options = LogStore.Options()
        options.maxBatchEvents = 1000
        // The log alone: projections (their CPU and their bytes) are measured by `tools/bench
        // projections`.
        options.projectionThreads = 0
        if let level = ProcessInfo.processInfo.environment["LOGBOOK_BENCH_ZSTD_LEVEL"].flatMap(Int32.init) {
            options.compressionLevel = level  // for exploring the size/speed trade-off; figures use the default
        }
        if let size = ProcessInfo.processInfo.environment["LOGBOOK_BENCH_DICT_SIZE"].flatMap(Int.init) {
            options.dictionarySize = size  // likewise
        }
        if let size = ProcessInfo.processInfo.environment["LOGBOOK_BENCH_MAP_SIZE"].flatMap(Int.init) {
            options.mapSize = size  // small enough for valgrind's address space
        }
        if let threads = ProcessInfo.processInfo.environment["LOGBOOK_BENCH_COMMIT_THREADS"].flatMap(Int.init) {
            options.commitThreads = threads  // likewise
        }
        let apiStore = try LogStore(directory: scratch + "/api", options: options)
        // The tenants exist before the clock starts, as in the HTTP benchmark (`logbook tenants
        // create` first): what is measured is ingest, not a hundred environments being made.
        // Making them also costs the filesystem more right after the previous run's scratch
        // was deleted (ext4 without a journal skips inodes freed in the last minute).
        if ProcessInfo.processInfo.environment["LOGBOOK_BENCH_CREATE_IN_RUN"] == nil {
            let created0 = now()
            for t in Set(chunks.map(\.0)).sorted() { try apiStore.createTenant(t) }
            log(String(format: "tenants made before the clock starts: %.3f s", now() - created0))
        }
        let tracker = Completion()
        let cpu0 = cpuSeconds()
        let submitter0 = cpuSeconds(thread: true)
        let t0 = now()
        for (t, events) in chunks {
            tracker.begin()
            while true {
                do {
                    try apiStore.submit(events, to: t) { r in tracker.finish(r) }
                    break
                } catch {
                    // Back-pressure: wait for the commit threads. Anything else is fatal here.
                    guard error.code == .queueFull else { fatalError("append failed: \(error)") }
                    usleep(100)
                }
            }
        }
        tracker.wait()
        let ingestSeconds = now() - t0
        guard tracker.failures == 0, tracker.appended == n else {
            fatalError("append benchmark: \(tracker.failures) failures, \(tracker.appended) of \(n) appended")
        }
        let ingestEPS = Double(n) / ingestSeconds
        let ingestCPU = cpuSeconds() - cpu0
        let submitterCPU = cpuSeconds(thread: true) - submitter0
        log(
            String(
                format:
                    "append API (durable, ≤1000/commit): %.0f events/s (%.2f s, %.2f CPU s, %.2f of them submitting)",
                ingestEPS, ingestSeconds, ingestCPU, submitterCPU))

        chunks = []  // the decoded workload is not part of what the later phases measure
        if ProcessInfo.processInfo.environment["LOGBOOK_BENCH_APPEND_ONLY"] != nil {
            apiStore.close()  // for profiling the append phase alone
            return
        }

        // 2. Replay: decode every event of every tenant (tenants in parallel, one per core).
        let tenants = apiStore.tenants()
        let (replayed, replaySeconds) = replayAll(apiStore)
        guard replayed == n else { fatalError("replay read \(replayed) of \(n) events") }
        let replayEPS = Double(n) / replaySeconds
        log(String(format: "replay: %.0f events/s (%.2f s)", replayEPS, replaySeconds))

        var logBytes: UInt64 = 0, fileBytes: UInt64 = 0, rawBytes: UInt64 = 0
        for t in tenants {
            let s = try apiStore.stats(t)
            logBytes += s.logBytes
            fileBytes += s.fileBytes
            rawBytes += s.rawBytes
        }
        apiStore.close()
        log(String(format: "append phase peak RSS (decoded input included): %.0f MiB", peakRSSMiB()))
        log(
            String(
                format: "log %.3f B/event, files %.1f B/event, body compression %.1fx",
                Double(logBytes) / Double(n), Double(fileBytes) / Double(n), Double(rawBytes) / Double(logBytes)))

        // 3. Ingest from the NDJSON file, parsing and validation included, in a fresh process:
        //    its peak RSS is the engine's own, without this process's decoded copy of the input.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--file-ingest", workload, scratch + "/file"]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        let fields = output.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        guard child.terminationStatus == 0, fields.count == 3, Int(fields[0]) == n else {
            fatalError("file ingest child failed: \(output)")
        }
        let fileEPS = fields[1]
        let fileRSS = fields[2]
        log(String(format: "ingest from file: %.0f events/s, peak RSS %.0f MiB", fileEPS, fileRSS))

        let result: [String: Any] = [
            "events": n,
            "ingest_eps": Int(ingestEPS),
            "ingest_file_eps": Int(fileEPS),
            "replay_eps": Int(replayEPS),
            // Two decimals: at one, 32.01 B/event printed as 32.0 against a target of 32.
            "log_bytes_per_event": round2(Double(logBytes) / Double(n)),
            "stored_bytes_per_event": round2(Double(fileBytes) / Double(n)),
            "peak_rss_mib": round1(fileRSS),
        ]
        let keys = [
            "events", "ingest_eps", "ingest_file_eps", "replay_eps", "log_bytes_per_event",
            "stored_bytes_per_event", "peak_rss_mib",
        ]
        print("{" + keys.map { "\"\($0)\":\(result[$0]!)" }.joined(separator: ",") + "}")
    }

    /// `submit`'s work on the caller's thread, on its own (a name for profilers to find).
    @inline(never)
    static func encode(_ events: [Event]) -> Int { EncodedEvents(events).count }

    /// CPU seconds of the process, or of the calling thread.
    static func cpuSeconds(thread: Bool = false) -> Double {
        var u = rusage()
        getrusage(thread ? 1 : 0, &u)  // RUSAGE_THREAD, RUSAGE_SELF
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// Decodes every event of every tenant, tenants in parallel (one per core, largest first,
    /// so that no large tenant is left to run alone at the end); (events, seconds).
    static func replayAll(_ store: LogStore) -> (Int, Double) {
        let tenants = store.tenants().map { ($0, (try? store.lastSequence($0)) ?? 0) }.sorted { $0.1 > $1.1 }.map(\.0)
        let counter = Completion()
        let next = Atomic<Int>(0)
        let r0 = now()
        DispatchQueue.concurrentPerform(iterations: ProcessInfo.processInfo.activeProcessorCount) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < tenants.count else { return }
                var count = 0
                try? store.read(tenants[i]) { _ in
                    count += 1
                    return true
                }
                counter.add(count)
            }
        }
        return (counter.appended, now() - r0)
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    static func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
    static func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
    static func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    /// Ingests `workload` into `directory` and prints "events events_per_second peak_rss_mib".
    static func fileIngestChild(workload: String, directory: String) throws {
        var options = LogStore.Options()
        options.maxBatchEvents = 1000
        options.projectionThreads = 0  // the log alone, as above
        let store = try LogStore(directory: directory, options: options)
        let report = try NDJSONIngester(store: store).ingest(path: workload)
        store.close()
        print("\(report.appended) \(report.eventsPerSecond) \(peakRSSMiB())")
    }

    static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// VmHWM from /proc/self/status: the peak resident set size.
    static func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? -1
            return kb / 1024
        }
        return -1
    }
}

final class Completion: @unchecked Sendable {
    // @unchecked: all state guarded by `condition`.
    private let condition = NSCondition()
    private var outstanding = 0
    private(set) var appended = 0
    private(set) var failures = 0

    func begin() { condition.withLock { outstanding += 1 } }
    func add(_ k: Int) { condition.withLock { appended += k } }

    func finish(_ r: Result<[AppendOutcome], LogError>) {
        condition.withLock {
            switch r {
            case .success(let o): appended += o.count
            case .failure: failures += 1
            }
            outstanding -= 1
            if outstanding == 0 { condition.broadcast() }
        }
    }

    func wait() {
        condition.lock()
        while outstanding > 0 { condition.wait() }
        condition.unlock()
    }
}
