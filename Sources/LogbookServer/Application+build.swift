public import Hummingbird
public import LogbookCore
public import Logging

/// Builds the HTTP application on `store`. Tests call this and drive it with HummingbirdTesting;
/// `logbook serve` runs it.
public func buildApplication(
    configuration: ServerConfiguration, store: LogStore, logger: Logger = Logger(label: "logbook.server")
) -> some ApplicationProtocol {
    let router = Router(context: LogbookRequestContext.self)
    router.get("/healthz") { _, _ in jsonResponse(.ok, Array(#"{"status":"ok"}"#.utf8)) }
    router.get("/readyz") { _, _ in jsonResponse(.ok, Array(#"{"status":"ready"}"#.utf8)) }
    let api = router.group("/v1").add(middleware: AuthMiddleware(store: store))
    let ingest = IngestRoute(store: store, configuration: configuration)
    let queries = QueryRoutes(store: store, configuration: configuration)
    api.post("/events", use: ingest.handle)
    api.get("/events", use: queries.events)
    api.get("/stats", use: queries.stats)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "logbook"),
        logger: logger)
}
