public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import LogbookCore
public import Logging
import NIOCore
import NIOSSL

/// Builds the HTTP application on `store`. Tests call this and drive it with HummingbirdTesting;
/// `logbook serve` runs it.
///
/// - Parameter metrics: the registry `/metrics` exposes; `logbook serve` bootstraps
///   `MetricsSystem` with its factory, tests pass their own.
/// - Throws: `ConfigurationError` when the TLS certificate or key cannot be loaded.
public func buildApplication(
    configuration: ServerConfiguration, store: LogStore, logger: Logger = Logger(label: "logbook.server"),
    metrics: ServerMetrics = ServerMetrics()
) throws -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, store: store, metrics: metrics)
    var server = HTTPServerBuilder.http1()
    if let files = configuration.tls {
        server = try .tls(.http1(), tlsConfiguration: tlsConfiguration(files))
    }
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "logbook"),
        logger: logger)
}

/// Every route of the server, in one place: `buildApplication` serves it and the drift test
/// compares `router.routes` with specs/openapi.yaml.
public func buildRouter(
    configuration: ServerConfiguration, store: LogStore, metrics: ServerMetrics
) -> Router<LogbookRequestContext> {
    let router = Router(context: LogbookRequestContext.self)
    // Router middleware wraps only the routes added after it, so it comes first.
    router.add(middleware: RequestLogMiddleware(metrics: metrics))
    if configuration.production && configuration.tls != nil { router.add(middleware: StrictTransportSecurity()) }

    router.get("/healthz") { _, _ in jsonResponse(.ok, Array(#"{"status":"ok"}"#.utf8)) }
    router.get("/readyz") { _, _ in jsonResponse(.ok, Array(#"{"status":"ready"}"#.utf8)) }
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(store: store))))
    }
    let schema = ByteBuffer(string: OpenAPISpec.yaml)
    let docs = ByteBuffer(string: DocsPage.render(OpenAPISpec.document, yaml: OpenAPISpec.yaml))
    router.get("/api/schema") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: schema))
    }
    router.get("/api/docs") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: docs))
    }

    let api = router.group("/v1")
        .add(middleware: AuthMiddleware(store: store, operatorTokenHash: configuration.operatorTokenHash))
    let ingest = IngestRoute(store: store, configuration: configuration, metrics: metrics)
    let queries = QueryRoutes(store: store, configuration: configuration)
    let admin = AdminRoutes(store: store)
    let projections = ProjectionRoutes(store: store, configuration: configuration)
    api.post("/events", use: ingest.handle)
    api.get("/events", use: queries.events)
    api.get("/stats", use: queries.stats)
    api.post("/tenants", use: admin.createTenant)
    api.post("/tokens", use: admin.issueToken)
    api.get("/tokens", use: admin.listTokens)
    api.delete("/tokens/{id}", use: admin.revokeToken)
    api.get("/timeline", use: projections.timeline)
    api.get("/daily", use: projections.daily)
    api.get("/team", use: projections.team)
    api.get("/audit", use: projections.audit)
    api.get("/export", use: projections.export)
    api.get("/projections", use: projections.status)
    api.post("/projections/rebuild", use: projections.rebuild)
    return router
}

/// TLS 1.3 only: every client that speaks TLS at all today speaks 1.3, and 1.3 has no weak suites.
func tlsConfiguration(_ files: TLSFiles) throws(ConfigurationError) -> TLSConfiguration {
    do {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv13
        return tls
    } catch {
        throw ConfigurationError(
            "cannot load the TLS certificate \(files.certificateChain) or key \(files.privateKey): \(error)")
    }
}

/// `Strict-Transport-Security` on every response, errors included (production with TLS only:
/// on plain HTTP the header is meaningless and would be ignored by browsers).
struct StrictTransportSecurity: RouterMiddleware {
    typealias Context = LogbookRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains"
        return response
    }
}
