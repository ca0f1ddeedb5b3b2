public import Hummingbird
public import LogbookCore
import Synchronization

/// Who is calling: filled by `AuthMiddleware` from the bearer token, checked by every route.
public struct Caller: Sendable {
    public var tenant: TenantID
    public var role: TokenRole
    public var user: UserID?
}

/// The request context: Hummingbird's core storage plus the authenticated caller.
public struct LogbookRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller?
    /// True when the request carried the operator token (see `ServerConfiguration.operatorToken`):
    /// it may create tenants and nothing else, so it never becomes a `Caller`.
    public var isOperator = false
    /// What the request log line reports; shared by reference because the log middleware runs
    /// outside the middleware and routes that learn the tenant and the event count.
    let summary = RequestSummary()

    public init(source: Source) {
        coreContext = .init(source: source)
        caller = nil
    }

    /// The caller, or 401 when the route was reached without one (403 for the operator token,
    /// which belongs to no tenant).
    func requireCaller() throws -> Caller {
        guard let caller else {
            if isOperator { throw Problem.forbidden("the operator token may only create tenants") }
            throw Problem.unauthorized("a bearer token is required")
        }
        return caller
    }

    /// The caller when it holds an admin token of its tenant; 403 for an agent token.
    func requireAdmin() throws -> Caller {
        let caller = try requireCaller()
        guard caller.role == .admin else {
            throw Problem.forbidden("this route needs an admin token; an agent token may only ingest events")
        }
        return caller
    }
}

/// The tenant and event count of one request, for its log line. Never holds tokens or payloads.
final class RequestSummary: Sendable {
    struct Fields {
        var tenant: TenantID?
        var events: Int?
    }

    private let fields = Mutex(Fields())

    var tenant: TenantID? {
        get { fields.withLock { $0.tenant } }
        set { fields.withLock { $0.tenant = newValue } }
    }

    var events: Int? {
        get { fields.withLock { $0.events } }
        set { fields.withLock { $0.events = newValue } }
    }
}
