import Hummingbird
import LogbookCore
import LogbookJSON
import NIOCore
import Synchronization

/// Tenants and tokens over HTTP. Tenant creation needs the operator token (tenants are created by
/// whoever runs the server, not by one tenant's admin); every token route acts on the caller's own
/// tenant, taken from its admin token, never from the request.
final class AdminRoutes: Sendable {
    let store: LogStore
    /// Serialises check-then-write sequences (tenant exists? last admin token?) so two concurrent
    /// requests cannot both pass the check. These routes are rare; a lock costs nothing here.
    private let mutations = Mutex(())

    /// Largest admin request body: a handful of short members.
    static let maxBodyBytes = 16 << 10
    static let maxLabelLength = 128

    init(store: LogStore) { self.store = store }

    /// `POST /v1/tenants` `{"tenant":"acme"}` → 201 `{"tenant","agent_token","admin_token"}`.
    func createTenant(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        guard context.isOperator else {
            _ = try context.requireCaller()
            throw Problem.forbidden("only the operator token may create tenants")
        }
        let body = try await Self.jsonObject(request)
        try Self.rejectUnknownMembers(body, allowed: ["tenant"])
        guard case .string(let name)? = body["tenant"] else { throw Problem.badRequest("tenant must be a string") }
        guard let tenant = TenantID(name) else {
            throw Problem.badRequest("tenant must be 1-64 characters of a-z 0-9 _ -, starting with a letter or digit")
        }
        context.summary.tenant = tenant
        let (agent, admin) = try mutations.withLock { _ throws -> (IssuedToken, IssuedToken) in
            guard !store.tenants().contains(tenant) else {
                throw Problem(.conflict, type: "tenant_exists", detail: "tenant \(tenant) already exists")
            }
            return try storing(context) {
                (
                    try store.issueToken(tenant: tenant, role: .agent, label: "agent"),
                    try store.issueToken(tenant: tenant, role: .admin, label: "admin")
                )
            }
        }
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.writeKey("tenant")
        w.writeString(tenant.rawValue)
        w.writeKey("agent_token")
        w.writeString(agent.token)
        w.writeKey("admin_token")
        w.writeString(admin.token)
        w.endObject()
        return jsonResponse(.created, w.bytes)
    }

    /// `POST /v1/tokens` `{"role":"agent"|"admin","user":uuid?,"label":string?}` → 201 with the
    /// token, shown this once.
    func issueToken(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        let body = try await Self.jsonObject(request)
        try Self.rejectUnknownMembers(body, allowed: ["role", "user", "label"])
        let role: TokenRole
        switch body["role"] {
        case nil, .string("agent")?: role = .agent
        case .string("admin")?: role = .admin
        default: throw Problem.badRequest("role must be \"agent\" or \"admin\"")
        }
        var user: UserID?
        switch body["user"] {
        case nil, .null?: user = nil
        case .string(let text)?:
            guard let u = UUID128(text) else { throw Problem.badRequest("user must be a UUID") }
            user = u
        default: throw Problem.badRequest("user must be a UUID")
        }
        var label = ""
        switch body["label"] {
        case nil: break
        case .string(let text)? where text.count <= Self.maxLabelLength: label = text
        default: throw Problem.badRequest("label must be a string of at most \(Self.maxLabelLength) characters")
        }
        let issued = try storing(context) {
            try store.issueToken(tenant: caller.tenant, role: role, user: user, label: label)
        }
        var w = JSONWriter(capacity: 256)
        Self.writeToken(&w, id: issued.id, record: issued.record) { w in
            w.writeKey("token")
            w.writeString(issued.token)
        }
        return jsonResponse(.created, w.bytes)
    }

    /// `GET /v1/tokens` → the caller's tenant's tokens: ids (hash prefixes), never the tokens.
    func listTokens(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        let tokens = try storing(context) { try store.listTokens(tenant: caller.tenant) }
            .sorted { ($0.record.created, $0.id) < ($1.record.created, $1.id) }
        var w = JSONWriter(capacity: 64 + tokens.count * 160)
        w.beginObject()
        w.writeKey("tokens")
        w.beginArray()
        for t in tokens { Self.writeToken(&w, id: t.id, record: t.record) }
        w.endArray()
        w.endObject()
        return jsonResponse(.ok, w.bytes)
    }

    /// `DELETE /v1/tokens/{id}` → 204. Refuses (409) to revoke the tenant's last active admin
    /// token, which would lock the tenant out of its own administration.
    func revokeToken(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        let id = context.parameters.get("id") ?? ""
        // Only the 12-digit id: a full token must never travel in a URL (URLs end up in logs).
        guard id.utf8.count == 12, id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw Problem.badRequest("the token id must be the 12 lower-case hex digits shown by GET /v1/tokens")
        }
        try mutations.withLock { _ throws in
            let tokens = try storing(context) { try store.listTokens(tenant: caller.tenant) }
            guard let target = tokens.first(where: { $0.id == id }) else {
                throw Problem(.notFound, type: "token_not_found", detail: "this tenant has no token with that id")
            }
            let activeAdmins = tokens.filter { $0.record.role == .admin && !$0.record.revoked }
            if target.record.role == .admin, !target.record.revoked, activeAdmins.count == 1 {
                throw Problem(
                    .conflict, type: "last_admin_token",
                    detail: "token \(id) is the tenant's last active admin token; issue another admin token first")
            }
            _ = try storing(context) { try store.revokeToken(tenant: caller.tenant, idOrToken: id) }
        }
        return Response(status: .noContent)
    }

    // MARK: Helpers

    /// Runs a store operation; a storage failure becomes a 500 problem that names no internals.
    private func storing<R>(_ context: LogbookRequestContext, _ body: () throws -> R) throws -> R {
        do { return try body() } catch let problem as Problem { throw problem } catch {
            context.logger.error("token storage failed", metadata: ["error": "\(error)"])
            throw Problem(.internalServerError, type: "storage_error", detail: "the tokens could not be stored or read")
        }
    }

    /// The request body as one JSON object (`application/json`, at most `maxBodyBytes`).
    static func jsonObject(_ request: Request) async throws -> JSONObject {
        guard request.mediaType == "application/json" else {
            throw Problem(.unsupportedMediaType, type: "unsupported_media_type", detail: "send application/json")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw Problem(
                .contentTooLarge, type: "body_too_large",
                detail: "the request body is larger than \(maxBodyBytes) bytes")
        }
        do {
            return try JSONParser.parseObject(Array(body.readableBytesView))
        } catch {
            throw Problem.badRequest("the body must be a JSON object (\(error))")
        }
    }

    static func rejectUnknownMembers(_ object: JSONObject, allowed: Set<String>) throws {
        if let unknown = object.members.first(where: { !allowed.contains($0.key) }) {
            throw Problem.badRequest(
                "unknown member \(unknown.key.prefix(64)); allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// A token's public description; `extra` adds members (the token itself, once, on issue).
    static func writeToken(
        _ w: inout JSONWriter, id: String, record: TokenRecord, extra: (inout JSONWriter) -> Void = { _ in }
    ) {
        w.beginObject()
        w.writeKey("id")
        w.writeString(id)
        w.writeKey("role")
        w.writeString(record.role.description)
        w.writeKey("user")
        if let user = record.user { w.writeString(user.description) } else { w.writeNull() }
        w.writeKey("label")
        w.writeString(record.label)
        w.writeKey("created")
        w.writeString(record.created.description)
        w.writeKey("revoked")
        w.writeBool(record.revoked)
        extra(&w)
        w.endObject()
    }
}
