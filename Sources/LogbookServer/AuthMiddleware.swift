import Hummingbird
import LogbookCore

/// Resolves `Authorization: Bearer <token>` to a `Caller`. Tokens are looked up by their
/// SHA-256 in the tenant's own environment on every request, so a revocation applies at once.
/// Routes decide what a missing or insufficient caller means.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LogbookRequestContext
    let store: LogStore

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer "), case let token = String(header.dropFirst(7)),
                let (tenant, record) = store.authenticate(token: token)
            else { throw Problem.unauthorized("the bearer token is invalid or revoked") }
            context.caller = Caller(tenant: tenant, role: record.role, user: record.user)
        }
        return try await next(request, context)
    }
}
