public import Hummingbird
public import LogbookCore

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

    public init(source: Source) {
        coreContext = .init(source: source)
        caller = nil
    }

    /// The caller, or 401 when the route was reached without one.
    func requireCaller() throws -> Caller {
        guard let caller else { throw Problem.unauthorized("a bearer token is required") }
        return caller
    }
}
