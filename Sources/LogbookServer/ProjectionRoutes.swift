import Foundation
import Hummingbird
import LogbookCore
import LogbookJSON
import NIOCore
import NIOPosix
import Synchronization

/// The projections over HTTP: timeline, daily, team, audit, the personal export, and the
/// projections' status and rebuild. The tenant always comes from the token.
///
/// Who may call what: an admin token reads everything of its tenant. An agent token bound to a
/// user may read that user's own timeline, daily figures and export (employees see their own
/// data), nothing else: another user's data, team, audit, `as_of` (a replay of the whole log) and
/// the projection routes are 403. An unbound agent token may only ingest.
///
/// The queries are synchronous LMDB reads, and `as_of`, the export and a rebuild replay the log:
/// they run on NIO's blocking thread pool (a rebuild on a thread of its own), never on the
/// cooperative pool that serves requests.
final class ProjectionRoutes: Sendable {
    let store: LogStore
    let configuration: ServerConfiguration
    /// Tenants with a rebuild in progress: a second request gets 409 instead of a second rebuild.
    private let rebuilding = Mutex<Set<TenantID>>([])

    /// `wait_for_seq` waits this long unless `wait_timeout` says otherwise, and never longer
    /// than `maxWaitSeconds`.
    static let defaultWaitSeconds = 5
    static let maxWaitSeconds = 30

    init(store: LogStore, configuration: ServerConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    // MARK: Queries

    /// `GET /v1/timeline?user=&from=&to=&after=&limit=&as_of=&wait_for_seq=&wait_timeout=`
    func timeline(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try Self.requireReader(context)
        let q = try QueryParameters(
            request, allowed: ["user", "from", "to", "after", "limit", "as_of", "wait_for_seq", "wait_timeout"])
        let user = try q.requiredUUID("user")
        try requireOwnData(caller, user: user)
        let from = try q.time("from") ?? Timestamp(microseconds: 0)
        let to = try q.time("to") ?? Timestamp(microseconds: Int64.max / 2)
        guard from < to else { throw Problem.badRequest("from must be before to") }
        let after = try q.string("after")
        if let after {
            let parts = after.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, Int64(parts[0]) != nil, UInt64(parts[1]) != nil else {
                throw Problem.badRequest("after must be the `next` cursor of a previous page")
            }
        }
        let limit = try q.limit(default: 500, max: configuration.maxQueryLimit)
        let asOf = try q.asOf(caller)
        try await waitIfAsked(q, caller)
        let store = store, tenant = caller.tenant
        let bytes = try await offload(context, tenant) { () throws(LogError) -> [UInt8] in
            ProjectionDocument.timeline(
                try store.timeline(tenant, user: user, from: from, to: to, after: after, limit: limit, asOf: asOf))
        }
        return jsonResponse(.ok, bytes)
    }

    /// `GET /v1/daily?user=&from=DATE&to=DATE&as_of=&wait_for_seq=&wait_timeout=`
    func daily(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try Self.requireReader(context)
        let q = try QueryParameters(request, allowed: ["user", "from", "to", "as_of", "wait_for_seq", "wait_timeout"])
        let user = try q.requiredUUID("user")
        try requireOwnData(caller, user: user)
        let (from, to) = try q.dateRange()
        let asOf = try q.asOf(caller)
        try await waitIfAsked(q, caller)
        let store = store, tenant = caller.tenant
        let bytes = try await offload(context, tenant) { () throws(LogError) -> [UInt8] in
            ProjectionDocument.daily(try store.daily(tenant, user: user, from: from, to: to, asOf: asOf))
        }
        return jsonResponse(.ok, bytes)
    }

    /// `GET /v1/team?manager=&from=DATE&to=DATE&cost=&as_of=&wait_for_seq=&wait_timeout=` (admin).
    /// Cost figures only with `cost=true`; until roles land the admin token is the manager/admin
    /// view, so no other token ever sees them.
    func team(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        let q = try QueryParameters(
            request, allowed: ["manager", "from", "to", "cost", "as_of", "wait_for_seq", "wait_timeout"])
        let manager = try q.requiredUUID("manager")
        let (from, to) = try q.dateRange()
        let cost = try q.oneOf("cost", ["true", "false"], default: "false") == "true"
        let asOf = try q.asOf(caller)
        try await waitIfAsked(q, caller)
        let store = store, tenant = caller.tenant
        let bytes = try await offload(context, tenant) { () throws(LogError) -> [UInt8] in
            ProjectionDocument.team(
                try store.team(tenant, manager: manager, from: from, to: to, includeCost: cost, asOf: asOf))
        }
        return jsonResponse(.ok, bytes)
    }

    /// `GET /v1/audit?user=&actor=&type=&from=&to=&order=&after=&limit=&as_of=&wait_for_seq=` (admin).
    func audit(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        let q = try QueryParameters(
            request,
            allowed: [
                "user", "actor", "type", "from", "to", "order", "after", "limit", "as_of", "wait_for_seq",
                "wait_timeout",
            ])
        var filter = AuditFilter()
        filter.subject = try q.uuid("user")
        if let actor = try q.string("actor") {
            guard !actor.isEmpty, actor.utf8.count <= 128 else {
                throw Problem.badRequest("actor must be 1-128 bytes")
            }
            filter.actor = actor
        }
        if let type = try q.string("type") {
            guard let t = EventType(name: type) else {
                throw Problem.badRequest("type must be an event type of specs/events.md (e.g. event.corrected)")
            }
            filter.type = t
        }
        filter.from = try q.time("from")
        filter.to = try q.time("to")
        if let a = filter.from, let b = filter.to, a >= b { throw Problem.badRequest("from must be before to") }
        filter.newestFirst = try q.oneOf("order", ["newest", "oldest"], default: "newest") == "newest"
        if let after = try q.string("after") {
            guard let s = UInt64(after) else {
                throw Problem.badRequest("after must be a sequence number (a previous page's `next`)")
            }
            filter.after = s
        }
        filter.limit = try q.limit(default: 100, max: configuration.maxQueryLimit)
        let asOf = try q.asOf(caller)
        try await waitIfAsked(q, caller)
        let store = store, tenant = caller.tenant, f = filter
        let bytes = try await offload(context, tenant) { () throws(LogError) -> [UInt8] in
            ProjectionDocument.audit(try store.audit(tenant, filter: f, asOf: asOf))
        }
        return jsonResponse(.ok, bytes)
    }

    /// `GET /v1/export?user=&format=json|csv`: everything held about one person. Buffered, at
    /// most `ServerConfiguration.maxExportBytes` (422 beyond: use `logbook export` on the server).
    func export(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try Self.requireReader(context)
        let q = try QueryParameters(request, allowed: ["user", "format"])
        let user = try q.requiredUUID("user")
        try requireOwnData(caller, user: user)
        let format: ExportFormat = try q.oneOf("format", ["json", "csv"], default: "json") == "csv" ? .csv : .json
        let store = store, tenant = caller.tenant, limit = configuration.maxExportBytes
        let bytes = try await offload(context, tenant) { () throws(LogError) -> [UInt8]? in
            var out: [UInt8] = []
            var tooLarge = false
            do throws(LogError) {
                try store.exportPerson(tenant, user: user, format: format) { chunk in
                    guard out.count + chunk.count <= limit else {
                        tooLarge = true
                        throw CancellationError()
                    }
                    out += chunk
                }
            } catch {
                if tooLarge { return nil }
                throw error
            }
            return out
        }
        guard let bytes else {
            throw Problem(
                .unprocessableContent, type: "export_too_large",
                detail: "the export is larger than the server's limit of \(limit) bytes; run `logbook export` instead")
        }
        let type = format == .csv ? "text/csv; charset=utf-8" : "application/json"
        var headers: HTTPFields = [.contentType: type]
        headers[.contentDisposition] = "attachment; filename=\"logbook-\(user).\(format.rawValue)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Projection status and rebuild

    /// `GET /v1/projections` (admin): generation, checkpoint, head, lag and entries.
    func status(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        _ = try QueryParameters(request, allowed: [])
        let store = store, tenant = caller.tenant
        let bytes = try await offload(context, tenant) { () throws(LogError) -> [UInt8] in
            Self.writeStatus(try store.projectionStatus(tenant))
        }
        return jsonResponse(.ok, bytes)
    }

    /// `POST /v1/projections/rebuild` (admin): rebuilds every projection of the caller's tenant
    /// from sequence 1 and switches to the new state atomically; answers the new status. 409 while
    /// another rebuild of the tenant runs.
    func rebuild(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        _ = try QueryParameters(request, allowed: [])
        let tenant = caller.tenant
        guard rebuilding.withLock({ $0.insert(tenant).inserted }) else {
            throw Problem(
                .conflict, type: "rebuild_running", detail: "a rebuild of this tenant's projections is already running")
        }
        defer { _ = rebuilding.withLock { $0.remove(tenant) } }
        let store = store
        // A rebuild may take minutes: a thread of its own, not one of the pool's few.
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<[UInt8], LogError>, Never>) in
            Thread.detachNewThread {
                do throws(LogError) {
                    try store.rebuildProjections(tenant)
                    continuation.resume(returning: .success(Self.writeStatus(try store.projectionStatus(tenant))))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        switch result {
        case .success(let bytes): return jsonResponse(.ok, bytes)
        case .failure(let error): throw problem(error, context, tenant)
        }
    }

    static func writeStatus(_ s: ProjectionStatus) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.writeKey("tenant")
        w.writeString(s.tenant.rawValue)
        w.writeKey("generation")
        w.writeInteger(Int64(s.generation))
        for (key, value) in [("checkpoint", s.checkpoint), ("head", s.head), ("lag", s.lag)] {
            w.writeKey(key)
            w.writeInteger(Int64(clamping: value))
        }
        w.writeKey("entries")
        w.beginObject()
        for e in s.entries {
            w.writeKey(e.projection)
            w.writeInteger(Int64(e.count))
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    // MARK: Access

    /// The caller of a route that a user-bound agent token may call for its own user: admin
    /// tokens and bound agent tokens pass, an unbound agent token gets 403 at once.
    static func requireReader(_ context: LogbookRequestContext) throws -> Caller {
        let caller = try context.requireCaller()
        guard caller.role == .admin || caller.user != nil else {
            throw Problem.forbidden(
                "this route needs an admin token, or an agent token bound to the user it reads; this agent token may only ingest events"
            )
        }
        return caller
    }

    /// An agent token reads only its own user's data, and not once that user is deactivated.
    func requireOwnData(_ caller: Caller, user: UserID) throws {
        guard caller.role != .admin else { return }
        guard caller.user == user else { throw Problem.forbidden("this token may only read its own user's data") }
        if store.isDeactivated(user, in: caller.tenant) { throw Problem.forbidden("this token's user is deactivated") }
    }

    // MARK: Waiting and running

    /// `wait_for_seq=N`: waits until the projections include sequence N (read-your-writes after
    /// an ingest answered seq N), at most `wait_timeout` seconds (default 5, at most 30); 503
    /// with Retry-After when they do not get there in time.
    func waitIfAsked(_ q: QueryParameters, _ caller: Caller) async throws {
        guard let raw = try q.string("wait_for_seq") else {
            if try q.string("wait_timeout") != nil {
                throw Problem.badRequest("wait_timeout needs wait_for_seq")
            }
            return
        }
        guard let sequence = UInt64(raw), sequence >= 1 else {
            throw Problem.badRequest("wait_for_seq must be a positive integer")
        }
        var seconds = Self.defaultWaitSeconds
        if let t = try q.string("wait_timeout") {
            guard let n = Int(t), (1...Self.maxWaitSeconds).contains(n) else {
                throw Problem.badRequest("wait_timeout must be 1-\(Self.maxWaitSeconds) seconds")
            }
            seconds = n
        }
        let reached: Bool
        do throws(LogError) {
            let head = try store.projectionStatus(caller.tenant).head
            guard sequence <= head else {
                throw LogError(.invalidArgument, "wait_for_seq is after the log's last sequence (\(head))")
            }
            reached = try await store.waitForProjections(caller.tenant, through: sequence, timeout: .seconds(seconds))
        } catch {
            throw problem(error, nil, caller.tenant)
        }
        guard reached else {
            var p = Problem(
                .serviceUnavailable, type: "projections_behind",
                detail: "the projections did not reach sequence \(sequence) within \(seconds) s; retry")
            p.headers[.retryAfter] = String(configuration.retryAfterSeconds)
            throw p
        }
    }

    /// Runs `body` on NIO's blocking thread pool (`offload`); its `LogError` becomes a problem.
    private func offload<R: Sendable>(
        _ context: LogbookRequestContext, _ tenant: TenantID, _ body: @escaping @Sendable () throws(LogError) -> R
    ) async throws -> R {
        switch try await LogbookServer.offload(body) {
        case .success(let value): return value
        case .failure(let error): throw problem(error, context, tenant)
        }
    }

    /// The problem for a library error (`Problem.readFailed`).
    func problem(_ error: LogError, _ context: LogbookRequestContext?, _ tenant: TenantID) -> Problem {
        Problem.readFailed(
            error, reading: "the projections", of: tenant, retryAfterSeconds: configuration.retryAfterSeconds,
            logger: context?.logger)
    }
}

/// A request's query parameters, checked: unknown or repeated names are 400, and every bad
/// value is a 400 that names the parameter without echoing the value.
struct QueryParameters: Sendable {
    private var values: [String: String] = [:]

    init(_ request: Request, allowed: Set<String>) throws {
        for (name, value) in request.uri.queryParameters {
            let key = String(name)
            guard allowed.contains(key) else {
                // Echo the name only when it looks like one: a pasted secret must not come back.
                let shown =
                    key.utf8.count <= 32 && key.utf8.allSatisfy { $0 == 95 || (97...122).contains($0) }
                    ? "unknown query parameter \(key)" : "unknown query parameter"
                throw Problem.badRequest(
                    allowed.isEmpty
                        ? "\(shown); this route takes none"
                        : "\(shown); allowed: \(allowed.sorted().joined(separator: ", "))")
            }
            guard values[key] == nil else { throw Problem.badRequest("\(key) is given more than once") }
            values[key] = String(value)
        }
    }

    func string(_ name: String) throws -> String? { values[name] }

    func uuid(_ name: String) throws -> UserID? {
        guard let raw = values[name] else { return nil }
        guard let u = UUID128(raw) else { throw Problem.badRequest("\(name) must be a UUID") }
        return u
    }

    func requiredUUID(_ name: String) throws -> UserID {
        guard let u = try uuid(name) else { throw Problem.badRequest("\(name) is required (a UUID)") }
        return u
    }

    func time(_ name: String) throws -> Timestamp? {
        guard let raw = values[name] else { return nil }
        guard let t = Timestamp(rfc3339: raw) else { throw Problem.badRequest("\(name) must be an RFC 3339 time") }
        return t
    }

    /// `from` (required) and `to` (default: `from`) as `YYYY-MM-DD`; the store checks the dates
    /// themselves and the range.
    func dateRange() throws -> (String, String) {
        func date(_ name: String) throws -> String? {
            guard let raw = values[name] else { return nil }
            let b = Array(raw.utf8)
            guard b.count == 10, b[4] == 45, b[7] == 45,
                b.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || (48...57).contains($0.element) })
            else { throw Problem.badRequest("\(name) must be a date YYYY-MM-DD") }
            return raw
        }
        guard let from = try date("from") else { throw Problem.badRequest("from is required (a date YYYY-MM-DD)") }
        return (from, try date("to") ?? from)
    }

    func limit(default d: Int, max: Int) throws -> Int {
        guard let raw = values["limit"] else { return Swift.min(d, max) }
        guard let n = Int(raw), (1...max).contains(n) else {
            throw Problem.badRequest("limit must be an integer from 1 to \(max)")
        }
        return n
    }

    func oneOf(_ name: String, _ options: [String], default d: String) throws -> String {
        guard let raw = values[name] else { return d }
        guard options.contains(raw) else {
            throw Problem.badRequest("\(name) must be \(options.joined(separator: " or "))")
        }
        return raw
    }

    /// `as_of`: a sequence number or an RFC 3339 time (admin tokens only: it replays the log).
    func asOf(_ caller: Caller) throws -> AsOf? {
        guard let raw = values["as_of"] else { return nil }
        guard caller.role == .admin else { throw Problem.forbidden("as_of needs an admin token") }
        if let n = UInt64(raw) { return .sequence(n) }
        if let t = Timestamp(rfc3339: raw) { return .time(t) }
        throw Problem.badRequest("as_of must be a sequence number or an RFC 3339 time")
    }
}
