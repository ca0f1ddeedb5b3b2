import Hummingbird
import LogbookCore
import LogbookJSON
import NIOCore

/// `POST /v1/events`: a JSON array (or NDJSON stream) of events in the v1 wire envelope for the
/// token's tenant. Valid events are appended durably before the response; invalid ones write
/// nothing and are answered one by one, in request order.
struct IngestRoute {
    let store: LogStore
    let configuration: ServerConfiguration
    let metrics: ServerMetrics

    /// One per event of the request, in order; the valid events themselves go, in the same
    /// order and already encoded, into the `EncodedEvents` that moves into the append.
    enum Item {
        case valid
        case invalid(ValidationError)
    }

    func handle(_ request: Request, context: LogbookRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        if let user = caller.user, store.isDeactivated(user, in: caller.tenant) {
            throw Problem.forbidden("this token's user is deactivated")
        }
        let ndjson: Bool
        switch request.mediaType {
        case "application/json": ndjson = false
        case "application/x-ndjson", "application/jsonl": ndjson = true
        default:
            throw Problem(
                .unsupportedMediaType, type: "unsupported_media_type",
                detail: "send application/json (an array of events) or application/x-ndjson (one event per line)")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            throw Problem(
                .contentTooLarge, type: "body_too_large",
                detail: "the request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        let (items, events) = try parse(body, ndjson: ndjson, caller: caller)
        context.summary.events = items.count
        metrics.requestEvents.record(items.count)
        var outcomes: [AppendOutcome] = []
        do {
            outcomes = try await store.append(
                consume events, to: caller.tenant, approximateBytes: body.readableBytes)
        } catch {
            switch error.code {
            case .queueFull, .tooManyOpenTenants:
                var p = Problem(
                    .tooManyRequests, type: "queue_full",
                    detail: "the tenant's append queue is full; nothing was written")
                p.headers[.retryAfter] = String(configuration.retryAfterSeconds)
                throw p
            case .closed:
                throw Problem(.serviceUnavailable, type: "shutting_down", detail: "the server is shutting down")
            default:
                context.logger.error("append failed", metadata: ["tenant": "\(caller.tenant)", "error": "\(error)"])
                throw Problem(.internalServerError, type: "storage_error", detail: "the events could not be stored")
            }
        }
        return respond(items, outcomes)
    }

    /// A request's items, and its valid events in order.
    typealias Parsed = (items: [Item], events: EncodedEvents)

    private func parse(_ body: ByteBuffer, ndjson: Bool, caller: Caller) throws -> Parsed {
        let validator = EventValidator(now: Timestamp.now())
        var items: [Item] = []
        var events = EncodedEvents()
        try body.withUnsafeReadableBytes { buffer in
            if ndjson {
                var tenants = TenantNames()  // the lines' tenant names, each checked once
                // Room up front, estimated from the body (agents' lines are 200–300 bytes of
                // JSON, about twice their encoding): growing five columns line by line copies
                // each several times. More lines than estimated just grow them.
                let lines = min(buffer.count / 200 + 1, configuration.maxEventsPerRequest)
                items.reserveCapacity(lines)
                events.reserve(lines, bytes: buffer.count / 2)
                for (_, line) in NDJSONLines(buffer) where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    try countCheck(items.count + 1)
                    do throws(ValidationError) {
                        let t = try validator.validate(line: line, into: &events, tenants: &tenants)
                        items.append(check(t.map { tenants.names[$0] }, caller, &events))
                    } catch { items.append(.invalid(error)) }
                }
                return
            }
            // An array's elements one by one, each on the validator's fast path where it can be;
            // anything the element-wise reading cannot settle (JSON errors, deep nesting, too
            // many events) goes through the whole document below, which names the problem.
            if let elements = JSONArrayElements.split(buffer), elements.count <= configuration.maxEventsPerRequest,
                let each = validateEach(elements, validator, caller)
            {
                (items, events) = each
                return
            }
            let value: JSONValue
            do {
                value = try JSONParser.parse(buffer, limits: .init(maxDepth: 34, maxBytes: configuration.maxBodyBytes))
            } catch {
                throw Problem.badRequest("the body is not valid JSON (\(error))")
            }
            let elements: [JSONValue]
            switch value {
            case .array(let a): elements = a
            case .object: elements = [value]
            default: throw Problem.badRequest("the body must be a JSON array of events")
            }
            try countCheck(elements.count)
            for element in elements {
                do throws(ValidationError) {
                    let v = try validator.validate(element)
                    events.append(v.event)
                    items.append(check(v.tenant, caller, &events))
                } catch { items.append(.invalid(error)) }
            }
        }
        return (items, events)
    }

    /// One item per element; nil when an element is not valid JSON by itself.
    private func validateEach(
        _ elements: [UnsafeRawBufferPointer], _ validator: EventValidator, _ caller: Caller
    ) -> Parsed? {
        var items: [Item] = []
        var events = EncodedEvents()
        var tenants = TenantNames()
        items.reserveCapacity(elements.count)
        events.reserve(elements.count, bytes: elements.reduce(0) { $0 + $1.count / 2 })
        for element in elements {
            do throws(ValidationError) {
                let t = try validator.validate(line: element, into: &events, tenants: &tenants)
                items.append(check(t.map { tenants.names[$0] }, caller, &events))
            } catch {
                if error.code == .invalidJSON { return nil }
                items.append(.invalid(error))
            }
        }
        return (items, events)
    }

    private func countCheck(_ n: Int) throws {
        if n > configuration.maxEventsPerRequest {
            throw Problem(
                .contentTooLarge, type: "too_many_events",
                detail: "a request may carry at most \(configuration.maxEventsPerRequest) events")
        }
    }

    /// Rules that depend on the caller, for the event just added to `events` (and naming
    /// `tenant`): the tenant named in the event, the token's own user. An event that breaks
    /// them is taken off again.
    private func check(_ tenant: TenantID?, _ caller: Caller, _ events: inout EncodedEvents) -> Item {
        if let tenant, tenant != caller.tenant {
            events.removeLast()
            return .invalid(ValidationError(.tenantMismatch, field: "tenant", "does not match the token's tenant"))
        }
        if let user = caller.user, events.subjects.last != user {
            events.removeLast()
            return .invalid(
                ValidationError(.invalidValue, field: "user", "this token may only send its own user's events"))
        }
        return .valid
    }

    /// 200 when every event was stored (or already was); 422 when any was refused. The body
    /// always has one result per event, so a client can retry just the refused ones.
    private func respond(_ items: [Item], _ outcomes: [AppendOutcome]) -> Response {
        var w = JSONWriter(capacity: 64 + items.count * 32)
        var appended = 0, duplicates = 0, rejected = 0
        var next = outcomes.makeIterator()
        w.beginObject()
        w.writeKey("results")
        w.beginArray()
        for item in items {
            switch item {
            case .valid:
                switch next.next()! {
                // `{"status":…,"seq":N}` as literals around the number, in one step: the object
                // written member by member was most of the response's cost, one per event.
                case .appended(let seq):
                    appended += 1
                    w.writeValue(#"{"status":"appended","seq":"#, Int64(seq), "}")
                case .duplicate(let seq):
                    duplicates += 1
                    w.writeValue(#"{"status":"duplicate","seq":"#, Int64(seq), "}")
                case .refused(let reason):
                    rejected += 1
                    writeRejection(&w, code: reason.code.rawValue, field: reason.field, detail: reason.detail)
                }
            case .invalid(let error):
                rejected += 1
                writeRejection(&w, code: error.code.name, field: error.field, detail: error.message)
            }
        }
        w.endArray()
        metrics.ingestedEvents.increment(by: appended)
        metrics.duplicateEvents.increment(by: duplicates)
        metrics.rejectedEvents.increment(by: rejected)
        for (key, n) in [("appended", appended), ("duplicates", duplicates), ("rejected", rejected)] {
            w.writeKey(key)
            w.writeInteger(Int64(n))
        }
        w.endObject()
        return jsonResponse(rejected > 0 ? .unprocessableContent : .ok, w.bytes)
    }

    private func writeRejection(_ w: inout JSONWriter, code: String, field: String, detail: String) {
        w.beginObject()
        w.writeKey("status")
        w.writeString("rejected")
        w.writeKey("error")
        w.beginObject()
        w.writeKey("code")
        w.writeString(code)
        w.writeKey("field")
        w.writeString(field)
        w.writeKey("detail")
        w.writeString(detail)
        w.endObject()
        w.endObject()
    }
}
