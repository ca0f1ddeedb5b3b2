import Hummingbird
import LogbookCore
import LogbookJSON

/// Tenant-scoped reads. Every route takes the caller's tenant from the token, never from the
/// request, so no parameter can reach another tenant's data.
struct QueryRoutes {
    let store: LogStore
    let configuration: ServerConfiguration

    /// `GET /v1/events?from_seq=&to_seq=&from=&to=&limit=`: events in sequence order, at most
    /// `limit` (default 1,000), with `next_from_seq` to continue from.
    func events(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        let query = request.uri.queryParameters
        func number(_ name: String) throws -> UInt64? {
            guard let raw = query[name[...]] else { return nil }
            guard let n = UInt64(raw), n >= 1 else { throw Problem.badRequest("\(name) must be a positive integer") }
            return n
        }
        func time(_ name: String) throws -> Timestamp? {
            guard let raw = query[name[...]] else { return nil }
            guard let t = Timestamp(rfc3339: String(raw)) else {
                throw Problem.badRequest("\(name) must be an RFC 3339 timestamp")
            }
            return t
        }
        let from = try number("from_seq") ?? 1
        let to = try number("to_seq") ?? .max
        let limit = Int(min(try number("limit") ?? 1000, UInt64(configuration.maxQueryLimit)))
        let fromTime = try time("from"), toTime = try time("to")
        let occurred: Range<Timestamp>? =
            (fromTime == nil && toTime == nil) ? nil : (fromTime ?? .min)..<(toTime ?? .max)
        if let occurred, occurred.isEmpty { throw Problem.badRequest("from must be before to") }
        let tenant = caller.tenant
        let page = try await offload { () throws(LogError) -> [UInt8] in
            var w = JSONWriter(capacity: 4096)
            w.beginObject()
            w.writeKey("events")
            w.beginArray()
            var count = 0
            var last: UInt64 = 0
            var more = false
            do {
                try store.read(tenant, from: from, to: to, occurred: occurred) { event in
                    if count == limit {
                        more = true
                        return false
                    }
                    event.writeJSON(tenant: tenant, into: &w)
                    count += 1
                    last = event.sequence
                    return true
                }
            } catch let error as LogError {
                // A tenant with tokens but no events yet: an empty page.
                guard error.code == .tenantNotFound else { throw error }
            } catch {
                throw LogError(.io, "reading the log of tenant \(tenant) failed", cause: error)
            }
            w.endArray()
            w.writeKey("next_from_seq")
            if more { w.writeInteger(Int64(last + 1)) } else { w.writeNull() }
            w.endObject()
            return w.bytes
        }
        switch page {
        case .success(let bytes): return jsonResponse(.ok, bytes)
        case .failure(let error): throw readFailed(error, context, tenant)
        }
    }

    /// `GET /v1/stats`: the caller's tenant's counts and sizes.
    func stats(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireAdmin()
        let tenant = caller.tenant
        let s: LogStore.TenantStats
        switch try await offload({ () throws(LogError) in try store.stats(tenant) }) {
        case .success(let stats): s = stats
        case .failure(let error): throw readFailed(error, context, tenant)
        }
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.writeKey("tenant")
        w.writeString(caller.tenant.rawValue)
        for (key, value) in [
            ("events", s.events), ("blocks", s.blocks), ("raw_bytes", s.rawBytes), ("log_bytes", s.logBytes),
            ("disk_bytes", s.fileBytes),
        ] {
            w.writeKey(key)
            w.writeInteger(Int64(value))
        }
        w.endObject()
        return jsonResponse(.ok, w.bytes)
    }

    private func readFailed(_ error: LogError, _ context: LogbookRequestContext, _ tenant: TenantID) -> Problem {
        Problem.readFailed(
            error, reading: "the log", of: tenant, retryAfterSeconds: configuration.retryAfterSeconds,
            logger: context.logger)
    }
}
