/// Everything `buildApplication` needs; `logbook serve` fills it from flags and environment.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes = 8 << 20
    /// Most events in one ingest request (413 beyond).
    public var maxEventsPerRequest = 10_000
    /// Most events one query response returns.
    public var maxQueryLimit = 10_000
    /// Seconds a client is told to wait after a 429.
    public var retryAfterSeconds = 1

    public init() {}
}
