import Hummingbird
import LogbookCore
import LogbookCrypto

/// Resolves `Authorization: Bearer <token>` to a `Caller` (or to the operator). Tenant tokens are
/// looked up by their SHA-256 in the tenant's own environment on every request, so a revocation
/// applies at once. Routes decide what a missing or insufficient caller means.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LogbookRequestContext
    let store: LogStore
    let operatorTokenHash: Digest?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else {
                throw Problem.unauthorized("the Authorization header must be `Bearer <token>`")
            }
            let token = String(header.dropFirst(7))
            // Comparing digests, not tokens: the time it takes says nothing about the token.
            if let operatorTokenHash, ServerConfiguration.hash(token) == operatorTokenHash {
                context.isOperator = true
            } else if let (tenant, record) = try authenticate(token, context) {
                context.caller = Caller(tenant: tenant, role: record.role, user: record.user)
                context.summary.tenant = tenant
            } else {
                throw Problem.unauthorized("the bearer token is invalid or revoked")
            }
        }
        return try await next(request, context)
    }

    /// The token's tenant and record; a busy or failing store is a 503/500, never a 401 (the
    /// token may well be valid).
    private func authenticate(_ token: String, _ context: Context) throws -> (TenantID, TokenRecord)? {
        do {
            return try store.authenticate(token: token)
        } catch {
            if error.code == .tooManyOpenTenants {
                var p = Problem(.serviceUnavailable, type: "busy", detail: "the server is busy; retry")
                p.headers[.retryAfter] = "1"
                throw p
            }
            context.logger.error("token check failed", metadata: ["error": "\(error)"])
            throw Problem(.internalServerError, type: "storage_error", detail: "the token could not be checked")
        }
    }
}
