import Foundation
import LogbookCore
import LogbookJSON
import Synchronization

/// `tools/bench projections`: rebuild rate of all built-in projections, query latencies, and
/// how far live projections trail the log under full ingest, on the `--mix full` workload.
/// Release builds only.
///
/// Usage: ProjectionBenchmark WORKLOAD-full.ndjson SCRATCH_DIR
@main
enum ProjectionBenchmark {
    static func main() throws {
        let args = CommandLine.arguments
        if args.count == 4 && args[1] == "--rebuild-only", let rounds = Int(args[3]) {
            // For profiling the rebuild alone, on the `store` a full run left behind.
            var options = LogStore.Options()
            options.projectionThreads = 0
            if let size = ProcessInfo.processInfo.environment["LOGBOOK_BENCH_MAP_SIZE"].flatMap(Int.init) {
                options.mapSize = size  // small enough for valgrind's address space
            }
            let store = try LogStore(directory: args[2], options: options)
            let n = store.tenants().reduce(0) { $0 + Int((try? store.stats($1).events) ?? 0) }
            for _ in 0..<rounds {
                let (seconds, cpu) = try rebuildAll(store)
                log(String(format: "rebuild: %.0f events/s (%.2f s, %.2f CPU s)", Double(n) / seconds, seconds, cpu))
            }
            store.close()
            return
        }
        guard args.count == 3 else {
            log("usage: ProjectionBenchmark WORKLOAD-full.ndjson SCRATCH_DIR")
            exit(2)
        }
        let (workload, scratch) = (args[1], args[2])
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

        // 0. Load the log (not measured), projections off.
        var options = LogStore.Options()
        options.projectionThreads = 0
        let store = try LogStore(directory: scratch + "/store", options: options)
        let loaded = try NDJSONIngester(store: store).ingest(path: workload)
        let n = loaded.appended
        log("loaded \(n) events (\(loaded.refused) refused by the log's rules)")

        // 1. Rebuild every tenant's projections, several tenants at a time.
        let (rebuildSeconds, rebuildCPU) = try rebuildAll(store)
        let rebuildEPS = Double(n) / rebuildSeconds
        log(String(format: "rebuild: %.0f events/s (%.2f s, %.2f CPU s)", rebuildEPS, rebuildSeconds, rebuildCPU))

        // 2. Queries on random users, days and managers taken from the workload.
        let samples = try sampleQueries(workload: workload, count: 2_000)
        let dayMicros: Int64 = 86_400_000_000
        var timeline: [Double] = []
        var daily: [Double] = []
        for s in samples.users {
            let day = s.at.microseconds / dayMicros * dayMicros
            timeline.append(
                try time {
                    _ = try store.timeline(
                        s.tenant, user: s.user, from: Timestamp(microseconds: day),
                        to: Timestamp(microseconds: day + dayMicros), limit: 10_000)
                })
            let (first, last) = month(of: s.at)
            daily.append(try time { _ = try store.daily(s.tenant, user: s.user, from: first, to: last) })
        }
        var team: [Double] = []
        for m in samples.managers {
            let (first, last) = month(of: m.at)
            team.append(
                try time { _ = try store.team(m.tenant, manager: m.user, from: first, to: last, includeCost: true) })
        }
        var audit: [Double] = []
        for s in samples.users {
            audit.append(try time { _ = try store.audit(s.tenant, filter: AuditFilter(limit: 100)) })
        }
        let p99 = { (xs: [Double]) -> Double in xs.sorted()[min(xs.count - 1, Int(Double(xs.count) * 0.99))] * 1000 }
        log(
            String(
                format:
                    "p99: timeline day %.2f ms, daily month %.2f ms, team month %.2f ms (%d teams), audit 100 %.2f ms",
                p99(timeline), p99(daily), p99(team), samples.managers.count, p99(audit)))
        store.close()

        // 3. Live lag: ingest the file at full speed with live projections, and sample how long
        //    the oldest unprojected commit of any tenant has waited.
        var liveOptions = LogStore.Options()
        liveOptions.projectionThreads = LogStore.Options().projectionThreads  // the default
        // For exploring the lag/throughput trade-off; figures use the defaults.
        let env = ProcessInfo.processInfo.environment
        if let ms = env["LOGBOOK_BENCH_PROJECTION_INTERVAL_MS"].flatMap(Int.init) {
            liveOptions.projectionIntervalMicros = ms * 1000
        }
        if let ms = env["LOGBOOK_BENCH_PROJECTION_DEFER_MS"].flatMap(Int.init) {
            liveOptions.projectionDeferMicros = ms * 1000
        }
        if let n = env["LOGBOOK_BENCH_COMMITTED_IN_MEMORY"].flatMap(Int.init) {
            liveOptions.maxCommittedEventsInMemory = n
        }
        let live = try LogStore(directory: scratch + "/live", options: liveOptions)
        let done = Atomic<Bool>(false)
        let sampler = LagSampler(store: live)
        let thread = Thread {
            while !done.load(ordering: .acquiring) {
                sampler.sample()
                usleep(50_000)
            }
        }
        thread.start()
        let liveReport = try NDJSONIngester(store: live).ingest(path: workload)
        let ingestSeconds = liveReport.seconds
        done.store(true, ordering: .releasing)
        while !thread.isFinished { usleep(1_000) }
        live.close()
        log(
            String(
                format: "live: ingest %.0f events/s with projections following; lag max %.0f ms, p99 %.0f ms",
                Double(liveReport.appended) / ingestSeconds, sampler.maxLagMs, sampler.p99LagMs))

        let fields: [(String, String)] = [
            ("events", "\(n)"), ("rebuild_eps", "\(Int(rebuildEPS))"),
            ("timeline_day_p99_ms", String(format: "%.2f", p99(timeline))),
            ("daily_month_p99_ms", String(format: "%.2f", p99(daily))),
            ("team_month_p99_ms", String(format: "%.2f", p99(team))),
            ("audit_100_p99_ms", String(format: "%.2f", p99(audit))),
            ("live_lag_ms", String(format: "%.0f", sampler.maxLagMs)),
        ]
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }

    /// Rebuilds every tenant's projections with `LogStore.rebuildProjections(of:)` and its default
    /// concurrency; (seconds, CPU seconds).
    static func rebuildAll(_ store: LogStore) throws -> (Double, Double) {
        let cpu0 = cpuSeconds()
        let t0 = now()
        // LOGBOOK_BENCH_REBUILD_THREADS: for exploring; the figures use the default.
        let threads = ProcessInfo.processInfo.environment["LOGBOOK_BENCH_REBUILD_THREADS"].flatMap(Int.init)
        try store.rebuildProjections(concurrency: threads)
        return (now() - t0, cpuSeconds() - cpu0)
    }

    struct Sample {
        var tenant: TenantID
        var user: UserID
        var at: Timestamp
    }

    /// Random (tenant, user, instant) triples from the workload's activity, and managers (users
    /// named as `manager` by a user.invited) with an instant of their team's activity.
    static func sampleQueries(workload: String, count: Int) throws -> (users: [Sample], managers: [Sample]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: workload), options: .alwaysMapped)
        var all: [Sample] = []
        var managers: [String: Sample] = [:]
        let validator = EventValidator(now: Timestamp.now())
        data.withUnsafeBytes { buffer in
            for (_, line) in NDJSONLines(buffer) where line.count > 1 {
                guard let v = try? validator.validate(line: line), let t = v.tenant, let u = v.event.subject else {
                    continue
                }
                if v.event.type == .activityWindow { all.append(Sample(tenant: t, user: u, at: v.event.occurredAt)) }
                if case .uuid(let m)? = v.event[.manager] {
                    managers["\(t)/\(m)"] = Sample(tenant: t, user: m, at: v.event.occurredAt)
                }
            }
        }
        var g = SystemRandomNumberGenerator()
        let users = (0..<count).map { _ in all.randomElement(using: &g)! }
        let teams = Array(managers.values).shuffled(using: &g).prefix(count)
        return (users, Array(teams))
    }

    static func month(of t: Timestamp) -> (String, String) {
        let date = String(t.description.prefix(7))  // YYYY-MM
        let days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let m = Int(date.suffix(2))!
        let y = Int(date.prefix(4))!
        let last = m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : days[m - 1]
        return (date + "-01", date + "-" + String(format: "%02d", last))
    }

    static func time(_ body: () throws -> Void) throws -> Double {
        let t = now()
        try body()
        return now() - t
    }

    /// User + system CPU time of this process (the noisy machine's wall clock varies more).
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(0, &u)  // RUSAGE_SELF
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    static func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}

/// Samples, per tenant, the log head and the projections' checkpoint; the lag of a tenant is
/// how long ago its head first passed the checkpoint.
final class LagSampler: @unchecked Sendable {
    // @unchecked: used from one sampling thread, read after it stopped.
    let store: LogStore
    /// tenant → (head, first time seen) history, oldest first.
    private var seen: [TenantID: [(head: UInt64, at: Double)]] = [:]
    private var lags: [Double] = []

    init(store: LogStore) { self.store = store }

    private var tenants: [TenantID] = []
    private var listedAt = 0.0

    func sample() {
        let now = ProjectionBenchmark.now()
        if now - listedAt > 0.5 {  // listing the directory each time would load the machine
            tenants = store.tenants()
            listedAt = now
        }
        for t in tenants {
            guard let s = try? store.projectionStatus(t) else { continue }
            var history = seen[t, default: []]
            if history.last?.head != s.head { history.append((s.head, now)) }
            // The oldest observation whose head is beyond the checkpoint: that commit waits.
            let newest = history.last?.head
            history.removeAll { $0.head <= s.checkpoint && $0.head != newest }
            let waiting = history.first { $0.head > s.checkpoint }
            lags.append(waiting.map { (now - $0.at) * 1000 } ?? 0)
            seen[t] = history
        }
    }

    var maxLagMs: Double { lags.max() ?? 0 }
    var p99LagMs: Double {
        guard !lags.isEmpty else { return 0 }
        return lags.sorted()[min(lags.count - 1, Int(Double(lags.count) * 0.99))]
    }
}
