import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookJSON
import LogbookServer
import LogbookTestSupport
import NIOCore
import Testing

/// A server on a fresh store with tenant `acme` (agent and admin tokens) and tenant `beta` (admin).
struct Fixture {
    let dir = TemporaryDirectory()
    let store: LogStore
    let agent: String
    let admin: String
    let betaAdmin: String

    init(options: LogStore.Options = testOptions()) throws {
        store = try LogStore(directory: dir.path, options: options)
        agent = try store.issueToken(tenant: TenantID("acme")!, role: .agent).token
        admin = try store.issueToken(tenant: TenantID("acme")!, role: .admin).token
        betaAdmin = try store.issueToken(tenant: TenantID("beta")!, role: .admin).token
    }
}

func event(_ i: Int, tenant: String? = nil, extra: String = "") -> String {
    let id = UUID128(high: 0x5555_0000_0000_4000 | UInt64(i) << 16, low: 0x8000_0000_0000_0000 | UInt64(i))
    let t = tenant.map { #""tenant":"\#($0)","# } ?? ""
    return
        #"{"id":"\#(id)",\#(t)"type":"activity.window","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T08:00:00.043Z","duration":1.5,"data":{"app":"Code","title":"t\#(i)"\#(extra)}}"#
}

func json(_ buffer: ByteBuffer) throws -> JSONObject {
    guard case .object(let o) = try JSONParser.parse(Array(buffer.readableBytesView)) else {
        throw CancellationError()
    }
    return o
}

func results(_ o: JSONObject) -> [String] {
    guard case .array(let a)? = o["results"] else { return [] }
    return a.map { r -> String in
        guard case .object(let r) = r, case .string(let s)? = r["status"] else { return "?" }
        if case .integer(let seq)? = r["seq"] { return "\(s) \(seq)" }
        if case .object(let e)? = r["error"], case .string(let code)? = e["code"], case .string(let f)? = e["field"] {
            return "\(s) \(code) \(f)"
        }
        return s
    }
}

@Suite("HTTP API")
struct ServerTests {
    func post(
        _ client: some TestClientProtocol, _ token: String?, _ body: String, type: String = "application/json"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: type]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(
            uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func get(_ client: some TestClientProtocol, _ token: String?, _ uri: String) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: uri, method: .get, headers: headers)
    }

    @Test("events posted as a JSON array are stored durably and answered per event; a retry is all duplicates")
    func ingestArray() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store)
        try await app.test(.router) { client in
            let body = "[" + [event(1, tenant: "acme"), event(2)].joined(separator: ",") + "]"
            let first = try await post(client, f.agent, body)
            #expect(first.status == .ok)
            #expect(results(try json(first.body)) == ["appended 1", "appended 2"])
            let retry = try await post(client, f.agent, body)
            #expect(retry.status == .ok)
            #expect(results(try json(retry.body)) == ["duplicate 1", "duplicate 2"])
            #expect(try f.store.lastSequence(TenantID("acme")!) == 2)
        }
    }

    @Test("NDJSON bodies are accepted line by line")
    func ingestNDJSON() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store)
        try await app.test(.router) { client in
            let r = try await post(
                client, f.agent, (1...3).map { event($0) }.joined(separator: "\n"), type: "application/x-ndjson")
            #expect(r.status == .ok)
            #expect(results(try json(r.body)) == ["appended 1", "appended 2", "appended 3"])
        }
    }

    @Test("invalid events get 422 with the field, write nothing, and do not stop the valid ones")
    func invalidEvents() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store)
        try await app.test(.router) { client in
            let long = String(repeating: "x", count: 1100)
            let body =
                "["
                + [
                    event(1), event(2, extra: #","keystrokes":"hunter2""#), event(3, tenant: "beta"),
                    event(4).replacingOccurrences(of: #""title":"t4""#, with: #""title":"\#(long)""#), event(5),
                ].joined(separator: ",") + "]"
            let r = try await post(client, f.agent, body)
            #expect(r.status == .unprocessableContent)
            #expect(
                results(try json(r.body)) == [
                    "appended 1", "rejected unknown_field data.keystrokes", "rejected tenant_mismatch tenant",
                    "rejected too_long data.title", "appended 2",
                ])
            #expect(!String(buffer: r.body).contains("hunter2"))
            #expect(try f.store.lastSequence(TenantID("acme")!) == 2)
        }
    }

    @Test("tokens: none or invalid is 401, revoked is 401 at once, an agent token cannot read (403)")
    func auth() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store)
        try await app.test(.router) { client in
            let none = try await post(client, nil, "[]")
            #expect(none.status == .unauthorized)
            #expect(none.headers[.contentType] == "application/problem+json")
            #expect(none.headers[.wwwAuthenticate] == "Bearer")
            let r1 = try await post(client, "lbk_acme_" + String(repeating: "0", count: 64), "[]")
            #expect(r1.status == .unauthorized)
            let r2 = try await post(client, "not-a-token", "[]")
            #expect(r2.status == .unauthorized)
            let r3 = try await get(client, f.agent, "/v1/events")
            #expect(r3.status == .forbidden)
            let r4 = try await post(client, f.agent, "[\(event(1))]")
            #expect(r4.status == .ok)
            #expect(try f.store.revokeToken(tenant: TenantID("acme")!, idOrToken: f.agent))
            let r5 = try await post(client, f.agent, "[\(event(2))]")
            #expect(r5.status == .unauthorized)
        }
    }

    @Test("wrong content type is 415; a body over the limit is 413; malformed JSON is 400")
    func limits() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        var config = ServerConfiguration()
        config.maxBodyBytes = 2048
        config.maxEventsPerRequest = 3
        let app = try buildApplication(configuration: config, store: f.store)
        try await app.test(.router) { client in
            let r6 = try await post(client, f.agent, "[]", type: "text/plain")
            #expect(r6.status == .unsupportedMediaType)
            for type in ["", ";application/json", "application/json-seq", "application/ json"] {
                #expect(try await post(client, f.agent, "[]", type: type).status == .unsupportedMediaType, "\(type)")
            }
            // Media types are case-insensitive; parameters and blanks around the type are ignored.
            for (type, body) in [
                (" Application/JSON ; charset=utf-8", "[]"), ("application/x-ndjson\t", ""), ("APPLICATION/JSONL", ""),
            ] {
                let status = try await post(client, f.agent, body, type: type).status
                #expect(status == .ok, "\(type): \(status)")
            }
            let big = "[" + (1...20).map { event($0) }.joined(separator: ",") + "]"
            let r7 = try await post(client, f.agent, big)
            #expect(r7.status == .contentTooLarge)
            let four = "[" + (1...4).map { event($0) }.joined(separator: ",") + "]"
            let r8 = try await post(client, f.agent, four)
            #expect(r8.status == .contentTooLarge)
            let r9 = try await post(client, f.agent, "[{")
            #expect(r9.status == .badRequest)
            // One malformed element (here a repeated key) makes the whole array malformed,
            // although the array's elements are read one by one: 400, nothing written.
            let r10 = try await post(client, f.agent, "[" + event(1) + #",{"a":1,"a":2}]"#)
            #expect(r10.status == .badRequest)
            #expect(try f.store.lastSequence(TenantID("acme")!) == 0)
        }
    }

    @Test("queries see only the caller's tenant and page with next_from_seq")
    func queries() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store)
        try await app.test(.router) { client in
            let r10 = try await post(client, f.agent, "[" + (1...5).map { event($0) }.joined(separator: ",") + "]")
            #expect(r10.status == .ok)
            let page = try await get(client, f.admin, "/v1/events?from_seq=2&limit=2")
            #expect(page.status == .ok)
            let o = try json(page.body)
            guard case .array(let events)? = o["events"] else { Issue.record("no events"); return }
            #expect(events.count == 2)
            #expect(o["next_from_seq"] == .integer(4))
            // Another tenant's admin sees nothing of acme's.
            let other = try await get(client, f.betaAdmin, "/v1/events")
            #expect(other.status == .ok)
            #expect(try json(other.body)["events"] == .array([]))
            #expect(!String(buffer: other.body).contains("t1"))
            let r11 = try await get(client, f.admin, "/v1/events?from_seq=0")
            #expect(r11.status == .badRequest)
            let r12 = try await get(client, f.admin, "/v1/stats")
            #expect(r12.status == .ok)
            let r13 = try await get(client, nil, "/healthz")
            #expect(r13.status == .ok)
        }
    }

    @Test("a full queue answers 429 with Retry-After and loses nothing that was acknowledged")
    func backPressure() async throws {
        var options = testOptions()
        options.maxQueuedEventsPerTenant = 30
        options.commitThreads = 1
        let f = try Fixture(options: options)
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store)
        try await app.test(.router) { client in
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Int).self) { group in
                for r in 0..<30 {
                    group.addTask {
                        let body = "[" + (0..<20).map { event(r * 100 + $0) }.joined(separator: ",") + "]"
                        let resp = try await post(client, f.agent, body)
                        if resp.status == .tooManyRequests { #expect(resp.headers[.retryAfter] == "1") }
                        return (resp.status, resp.status == .ok ? 20 : 0)
                    }
                }
                var all: [(HTTPResponse.Status, Int)] = []
                for try await s in group { all.append(s) }
                return all
            }
            #expect(statuses.allSatisfy { $0.0 == .ok || $0.0 == .tooManyRequests })
            #expect(statuses.contains { $0.0 == .tooManyRequests })
            let acknowledged = statuses.reduce(0) { $0 + $1.1 }
            #expect(try f.store.lastSequence(TenantID("acme")!) == UInt64(acknowledged))
        }
    }

    @Test("a deactivated user's events are refused per event, and a token bound to that user gets 403")
    func deactivatedUser() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let user = "6b9f2ec5-1cfd-4033-aa22-a9dc692301fc"
        let bound = try f.store.issueToken(tenant: TenantID("acme")!, role: .agent, user: UUID128(user)).token
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store)
        try await app.test(.router) { client in
            let before = try await post(client, bound, "[\(event(1))]")
            #expect(before.status == .ok)
            let deactivate =
                #"{"id":"00000000-0000-4000-8000-0000000000aa","type":"user.deactivated","user":"\#(user)","ts":"2025-01-01T09:00:00Z"}"#
            let r = try await post(client, f.admin, "[\(deactivate),\(event(2))]")
            #expect(r.status == .unprocessableContent)
            #expect(results(try json(r.body)) == ["appended 2", "rejected user_deactivated user"])
            let after = try await post(client, bound, "[\(event(3))]")
            #expect(after.status == .forbidden)
        }
    }
}
