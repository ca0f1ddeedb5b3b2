import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import LogbookCore
import LogbookJSON
import LogbookServer
import LogbookTestSupport
import Logging
import NIOCore
import Prometheus
import Testing

@Suite("HTTP metrics and request logs")
struct ObservabilityTests {
    /// The value of the exposition line whose name and labels contain every one of `parts`.
    func value(_ text: String, _ parts: String...) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && parts.allSatisfy(line.contains) {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    @Test("/metrics exposes ingest counts, requests by route and status, batch sizes, commit latency and gauges")
    func metrics() async throws {
        let metrics = ServerMetrics(registry: PrometheusCollectorRegistry())
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions(), metrics: metrics.factory)
        defer { store.close() }
        let agent = try store.issueToken(tenant: TenantID("acme")!, role: .agent).token
        let app = try buildApplication(
            configuration: ServerConfiguration(), store: store, logger: quietLogger, metrics: metrics)
        try await app.test(.router) { client in
            let body = "[\(event(1)),\(event(2))]"
            let first = try await send(client, .post, "/v1/events", token: agent, body: body)
            #expect(first.status == .ok)
            let retry = try await send(client, .post, "/v1/events", token: agent, body: body)
            #expect(retry.status == .ok)
            let refused = try await send(client, .post, "/v1/events", token: agent, body: "[\(event(3, tenant: "x"))]")
            #expect(refused.status == .unprocessableContent)
            _ = try await send(client, .get, "/nowhere/\(agent)")
            let r = try await send(client, .get, "/metrics")
            #expect(r.status == .ok)
            #expect(r.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: r.body)
            #expect(value(text, "logbook_ingest_events_total{", #"result="appended""#) == 2)
            #expect(value(text, "logbook_ingest_events_total{", #"result="duplicate""#) == 2)
            #expect(value(text, "logbook_ingest_events_total{", #"result="rejected""#) == 1)
            #expect(
                value(text, "logbook_http_requests_total{", #"route="/v1/events""#, #"method="POST""#, #"status="200""#)
                    == 2)
            #expect(value(text, "logbook_http_requests_total{", #"status="422""#) == 1)
            // An unknown path is counted under one label, never its own (the path could be anything).
            #expect(value(text, "logbook_http_requests_total{", #"route="NotFound""#, #"status="404""#) == 1)
            #expect(!text.contains("nowhere"))
            #expect(value(text, "logbook_ingest_request_events_count") == 3)
            #expect(value(text, "logbook_ingest_request_events_bucket", #"le="2.0""#) == 3)
            #expect(value(text, "logbook_commit_batch_events_count") == 2)
            #expect(value(text, "logbook_commit_duration_seconds_count") == 2)
            #expect((value(text, "logbook_commit_duration_seconds_sum") ?? 0) > 0)
            #expect(value(text, "logbook_queued_events") == 0)
            #expect(value(text, "logbook_open_tenant_environments") == 1)
        }
    }

    @Test("/metrics reports how many committed events the projections have not applied yet")
    func projectionLag() async throws {
        let metrics = ServerMetrics(registry: PrometheusCollectorRegistry())
        let dir = TemporaryDirectory()
        var options = testOptions()
        options.projectionThreads = 0  // nothing follows the log until asked
        let store = try LogStore(directory: dir.path, options: options, metrics: metrics.factory)
        defer { store.close() }
        let tenant = TenantID("acme")!
        let agent = try store.issueToken(tenant: tenant, role: .agent).token
        let app = try buildApplication(
            configuration: ServerConfiguration(), store: store, logger: quietLogger, metrics: metrics)
        try await app.test(.router) { client in
            let posted = try await send(client, .post, "/v1/events", token: agent, body: "[\(event(1)),\(event(2))]")
            #expect(posted.status == .ok)
            let behind = String(buffer: try await send(client, .get, "/metrics").body)
            #expect(value(behind, "logbook_projection_lag_events") == 2)
            try store.catchUpProjections(tenant)
            let caughtUp = String(buffer: try await send(client, .get, "/metrics").body)
            #expect(value(caughtUp, "logbook_projection_lag_events") == 0)
        }
    }

    @Test("one log line per request with method, path, status, duration, tenant, events; never a token or payload")
    func requestLogs() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "logbook.server") { _ in handler }
        let app = try buildApplication(configuration: .withOperator(), store: f.store, logger: logger)
        try await app.test(.router) { client in
            let ingest = try await send(client, .post, "/v1/events", token: f.agent, body: "[\(event(1)),\(event(2))]")
            #expect(ingest.status == .ok)
            let read = try await send(client, .get, "/v1/events?from_seq=1&limit=5", token: f.admin)
            #expect(read.status == .ok)
            let bad = try await send(client, .get, "/v1/stats", token: "lbk_acme_" + String(repeating: "a", count: 64))
            #expect(bad.status == .unauthorized)
            let tenant = try await send(client, .post, "/v1/tenants", token: operatorToken, body: #"{"tenant":"zed"}"#)
            #expect(tenant.status == .created)
            let lost = try await send(client, .get, "/v1/\(f.admin)")
            #expect(lost.status == .notFound)
        }
        let lines = handler.entries.filter { $0.message == "request" }
        #expect(lines.count == 5)
        guard lines.count == 5 else { return }
        let m = lines.map(\.metadata)
        #expect(m[0]["method"] == "POST")
        #expect(m[0]["path"] == "/v1/events")
        #expect(m[0]["status"] == "200")
        #expect(m[0]["tenant"] == "acme")
        #expect(m[0]["events"] == "2")
        #expect(m[0]["duration_ms"] != nil)
        #expect(m[1]["path"] == "/v1/events")
        #expect(m[1]["events"] == nil)
        #expect(m[2]["status"] == "401")
        #expect(m[2]["tenant"] == nil)
        #expect(m[3]["tenant"] == "zed")
        #expect(m[3]["status"] == "201")
        #expect(m[3]["route"] == "/v1/tenants")
        #expect(m[4]["route"] == "NotFound")
        #expect(m[4]["path"] == nil)
        let everything = handler.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        for secret in [f.agent, f.admin, operatorToken, String(repeating: "a", count: 64), "from_seq", "Code", "t1"] {
            #expect(!everything.contains(secret), "\(secret)")
        }
    }
}
