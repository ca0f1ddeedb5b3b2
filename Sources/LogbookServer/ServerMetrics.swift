import CoreMetrics
import Hummingbird
import LogbookCore
public import Prometheus
import Synchronization

/// The server's Prometheus registry and the metrics it records. `logbook serve` makes one and
/// bootstraps `MetricsSystem` with its `factory` (so the store's commit metrics land in the same
/// registry); tests make their own and pass it explicitly.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Makes swift-metrics handlers in `registry`, with buckets sized for Logbook.
    public let factory: PrometheusMetricsFactory

    let ingestedEvents: CoreMetrics.Counter
    let duplicateEvents: CoreMetrics.Counter
    let rejectedEvents: CoreMetrics.Counter
    let requestEvents: CoreMetrics.Recorder
    private let queuedEvents: CoreMetrics.Gauge
    private let openTenants: CoreMetrics.Gauge
    private let projectionLag: CoreMetrics.Gauge
    /// Request counters by route, method and status, made on first use.
    private let requests = Mutex<[RequestKey: CoreMetrics.Counter]>([:])

    struct RequestKey: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: Int
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // Commits are fsyncs: sub-millisecond to a second.
        factory.durationHistogramBuckets["logbook_commit_duration_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1),
        ]
        let sizes: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
        factory.valueHistogramBuckets["logbook_ingest_request_events"] = sizes
        factory.valueHistogramBuckets["logbook_commit_batch_events"] = sizes
        self.factory = factory
        ingestedEvents = CoreMetrics.Counter(
            label: "logbook_ingest_events_total", dimensions: [("result", "appended")], factory: factory)
        duplicateEvents = CoreMetrics.Counter(
            label: "logbook_ingest_events_total", dimensions: [("result", "duplicate")], factory: factory)
        rejectedEvents = CoreMetrics.Counter(
            label: "logbook_ingest_events_total", dimensions: [("result", "rejected")], factory: factory)
        requestEvents = CoreMetrics.Recorder(label: "logbook_ingest_request_events", factory: factory)
        queuedEvents = CoreMetrics.Gauge(label: "logbook_queued_events", factory: factory)
        openTenants = CoreMetrics.Gauge(label: "logbook_open_tenant_environments", factory: factory)
        projectionLag = CoreMetrics.Gauge(label: "logbook_projection_lag_events", factory: factory)
    }

    /// Counts one answered request. `route` is the matched route template (never the raw path,
    /// which would let any client create series).
    func countRequest(route: String, method: HTTPRequest.Method, status: Int) {
        let key = RequestKey(route: route, method: method, status: status)
        let counter = requests.withLock { counters in
            if let c = counters[key] { return c }
            let c = CoreMetrics.Counter(
                label: "logbook_http_requests_total",
                dimensions: [("route", route), ("method", method.rawValue), ("status", String(status))],
                factory: factory)
            counters[key] = c
            return c
        }
        counter.increment()
    }

    /// The text exposition, with the gauges read from `store` at this moment.
    func exposition(store: LogStore) -> [UInt8] {
        queuedEvents.record(store.queuedEventCount)
        openTenants.record(store.openTenantCount)
        projectionLag.record(Int(clamping: store.projectionLagEvents))
        return registry.emitToBuffer()
    }
}
