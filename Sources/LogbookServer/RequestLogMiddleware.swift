import Dispatch
import Hummingbird
import Logging

/// One structured log line and one `logbook_http_requests_total` count per request: method,
/// route template and path (without the query string, which may carry values nobody should find
/// in logs), status, duration, tenant and event count. Never headers, tokens or bodies — which is why this is not
/// Hummingbird's `LogRequestsMiddleware`, which can log headers.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = LogbookRequestContext
    let metrics: ServerMetrics
    /// Other methods are logged and counted as OTHER: a client must not be able to mint series.
    static let knownMethods: Set<HTTPRequest.Method> = [.get, .post, .put, .delete, .patch, .head, .options]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status, started: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            record(request, context, status: status, started: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: HTTPResponse.Status, started: UInt64) {
        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        let method = Self.knownMethods.contains(request.method) ? request.method : HTTPRequest.Method("OTHER")!
        // Hummingbird names unmatched requests "NotFound".
        let route = context.endpointPath ?? "NotFound"
        metrics.countRequest(route: route, method: method, status: status.code)
        var metadata: Logger.Metadata = [
            "method": "\(method)",
            "route": "\(route)",
            "status": "\(status.code)",
            "duration_ms": "\(Double(micros) / 1000)",
        ]
        // The concrete path only for a known route, whose parameters are public ids: an unknown
        // path is whatever the client typed, a pasted token included.
        if route != "NotFound" { metadata["path"] = "\(request.uri.path)" }
        if let tenant = context.summary.tenant { metadata["tenant"] = "\(tenant)" }
        if let events = context.summary.events { metadata["events"] = "\(events)" }
        context.logger.info("request", metadata: metadata)
    }
}
