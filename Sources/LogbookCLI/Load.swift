import ArgumentParser
import Foundation

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a running server with simulated agents posting batches of events from an NDJSON file.",
        discussion: """
            The file is mapped once and its lines grouped by tenant; each agent posts its tenant's events in \
            requests of --batch lines (application/x-ndjson) over its own keep-alive connection, one request at \
            a time, with the tenant's agent token from --tokens (NDJSON lines {"tenant":…,"agent_token":…}, as \
            `logbook tenants create` prints them). All requests are built before the clock starts.

            Without --rate the agents send as fast as the server answers. With --rate they send on a fixed \
            schedule, and latency is measured from when each request was meant to be sent, so a slow answer \
            that delays the next request still counts (no coordinated omission).

            Event ids are idempotency keys: a second run of the same file on the same data only finds \
            duplicates, which are cheaper than appends. Use fresh data (or another file) for each measurement.

            Prints achieved events/s, requests/s, ack latency percentiles and errors by status; the last line \
            is one JSON object. A refused request is counted by its status and not resent. Exits 1 if any \
            request failed or any event was rejected.
            """)

    @Option(help: "The server's base URL.") var url: String = "http://127.0.0.1:8080"
    @Option(help: "NDJSON events in the v1 wire envelope, each naming its tenant.") var file: String
    @Option(help: "Agent tokens per tenant: NDJSON lines {\"tenant\":…,\"agent_token\":…}.") var tokens: String
    @Option(help: "Simulated agents, one connection each.") var agents: Int = 200
    @Option(help: "Events per request.") var batch: Int = 500
    @Option(help: "Target events per second over all agents (default: as fast as the server answers).")
    var rate: Double?
    @Option(help: "Stop sending after this many seconds.") var duration: Double?
    @Option(help: "Send only the first N events of the file.") var events: Int?
    @Option(help: "Event-loop threads of the load generator.") var threads: Int = 1
    @Option(
        help: """
            Split each tenant T into T-0 … T-(K-1) (by event id), to measure K times as many tenants with \
            the same events; the tokens file must name the new tenants.
            """)
    var splitTenants: Int = 1

    func validate() throws {
        guard agents > 0 else { throw ValidationError("--agents must be at least 1") }
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
        guard splitTenants > 0 else { throw ValidationError("--split-tenants must be at least 1") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be above 0") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be above 0") }
        if let events, events <= 0 { throw ValidationError("--events must be at least 1") }
    }

    func run() async throws {
        let target = try LoadTarget(url: url)
        let tokenMap = try LoadWorkload.readTokens(tokens)
        let workload = try LoadWorkload(path: file, limit: events, split: splitTenants)
        guard !workload.lines.isEmpty else { throw CLIError("\(file) has no events") }
        let plans = try workload.plans(
            agents: agents, batch: batch, rate: rate, tokens: tokenMap, host: target.authority, path: target.path)
        let requests = plans.reduce(0) { $0 + $1.requests.count }
        let active = plans.filter { !$0.requests.isEmpty }.count
        let pace = rate.map { "target \(fmt(Int($0))) events/s" } ?? "max rate"
        say(
            "load: \(fmt(workload.lines.count)) events in \(fmt(requests)) requests from \(active) agents over "
                + "\(workload.tenants.count) tenants to \(url) (batch \(batch), \(pace))")
        let s = try await runLoad(plans: plans, target: target, threads: threads, duration: duration)
        let seconds = String(format: "%.2f", s.seconds)
        say(
            "acknowledged \(fmt(s.acknowledged)) events (\(fmt(s.total.duplicates)) duplicates, "
                + "\(fmt(s.total.rejected)) rejected) in \(seconds) s: "
                + "\(fmt(Int(s.eventsPerSecond))) events/s, \(fmt(Int(s.requestsPerSecond))) requests/s")
        say(
            String(
                format: "ack latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%@",
                s.millis(50), s.millis(90), s.millis(99), s.millis(99.9), s.maxMillis,
                rate == nil ? "" : " (from intended send times)"))
        let errors = s.total.errors.sorted { $0.key < $1.key }
        say(
            "errors: "
                + (errors.isEmpty ? "none" : errors.map { "\($0.key) ×\(fmt($0.value))" }.joined(separator: ", ")))
        if s.total.duplicates > 0 {
            say("note: duplicates were acknowledged without being appended; the rate is not an append rate")
        }
        say(json(s, tenants: workload.tenants.count))
        if !errors.isEmpty || s.total.rejected > 0 { throw ExitCode.failure }
    }

    private func json(_ s: LoadSummary, tenants: Int) -> String {
        func ms(_ v: Double) -> String { String(format: "%.3f", v) }
        let errors = s.total.errors.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
        let fields: [(String, String)] = [
            ("events", String(s.acknowledged)),
            ("appended", String(s.total.appended)),
            ("duplicates", String(s.total.duplicates)),
            ("rejected", String(s.total.rejected)),
            ("requests", String(s.total.requests)),
            ("seconds", String(format: "%.3f", s.seconds)),
            ("events_per_s", String(Int(s.eventsPerSecond))),
            ("requests_per_s", String(Int(s.requestsPerSecond))),
            ("batch", String(batch)),
            ("agents", String(agents)),
            ("tenants", String(tenants)),
            ("rate", rate.map { String(Int($0)) } ?? "null"),
            ("p50_ms", ms(s.millis(50))),
            ("p90_ms", ms(s.millis(90))),
            ("p99_ms", ms(s.millis(99))),
            ("p999_ms", ms(s.millis(99.9))),
            ("max_ms", ms(s.maxMillis)),
            ("errors", "{" + errors.joined(separator: ",") + "}"),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
