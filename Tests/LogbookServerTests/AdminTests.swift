import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookJSON
import LogbookServer
import LogbookTestSupport
import NIOCore
import Testing

@Suite("HTTP admin: tenants and tokens")
struct AdminTests {
    @Test("the operator token creates a tenant whose tokens work at once; a second create is 409")
    func createTenant() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: .withOperator(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let r = try await send(client, .post, "/v1/tenants", token: operatorToken, body: #"{"tenant":"gamma"}"#)
            #expect(r.status == .created)
            let o = try json(r.body)
            #expect(o["tenant"] == .string("gamma"))
            guard case .string(let agent)? = o["agent_token"], case .string(let admin)? = o["admin_token"] else {
                Issue.record("no tokens in \(String(buffer: r.body))")
                return
            }
            #expect(agent.hasPrefix("lbk_gamma_") && admin.hasPrefix("lbk_gamma_"))
            let ingest = try await send(client, .post, "/v1/events", token: agent, body: "[\(event(1))]")
            #expect(ingest.status == .ok)
            let stats = try await send(client, .get, "/v1/stats", token: admin)
            #expect(try json(stats.body)["events"] == .integer(1))
            let again = try await send(client, .post, "/v1/tenants", token: operatorToken, body: #"{"tenant":"gamma"}"#)
            #expect(again.status == .conflict)
            #expect(!String(buffer: again.body).contains("lbk_"))
            let existing = try await send(
                client, .post, "/v1/tenants", token: operatorToken, body: #"{"tenant":"acme"}"#)
            #expect(existing.status == .conflict)
        }
    }

    @Test("only the operator may create tenants; bad names and bodies are 400/415 and create nothing")
    func createTenantRefusals() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let before = f.store.tenants()
        let app = try buildApplication(configuration: .withOperator(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let body = #"{"tenant":"delta"}"#
            let asAdmin = try await send(client, .post, "/v1/tenants", token: f.admin, body: body)
            #expect(asAdmin.status == .forbidden)
            let asAgent = try await send(client, .post, "/v1/tenants", token: f.agent, body: body)
            #expect(asAgent.status == .forbidden)
            let anonymous = try await send(client, .post, "/v1/tenants", body: body)
            #expect(anonymous.status == .unauthorized)
            let wrongOperator = try await send(
                client, .post, "/v1/tenants", token: String(repeating: "x", count: 40), body: body)
            #expect(wrongOperator.status == .unauthorized)
            for bad in [#"{"tenant":"Bad Name"}"#, #"{"tenant":""}"#, #"{"tenant":7}"#, #"{"name":"x"}"#, "[", "{}"] {
                let r = try await send(client, .post, "/v1/tenants", token: operatorToken, body: bad)
                #expect(r.status == .badRequest, "\(bad)")
            }
            let text = try await send(
                client, .post, "/v1/tenants", token: operatorToken, body: body, type: "text/plain")
            #expect(text.status == .unsupportedMediaType)
            // The operator token belongs to no tenant: it reads nothing.
            let read = try await send(client, .get, "/v1/events", token: operatorToken)
            #expect(read.status == .forbidden)
        }
        #expect(f.store.tenants() == before)
        // Without a configured operator token nobody can create tenants over HTTP.
        let closed = try buildApplication(configuration: ServerConfiguration(), store: f.store, logger: quietLogger)
        try await closed.test(.router) { client in
            let r = try await send(client, .post, "/v1/tenants", token: operatorToken, body: #"{"tenant":"delta"}"#)
            #expect(r.status == .unauthorized)
        }
        #expect(f.store.tenants() == before)
    }

    @Test("an admin issues, lists and revokes its tenant's tokens; the list never shows a token")
    func tokenLifecycle() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: .withOperator(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let user = "6b9f2ec5-1cfd-4033-aa22-a9dc692301fc"
            let issued = try await send(
                client, .post, "/v1/tokens", token: f.admin,
                body: #"{"role":"agent","user":"\#(user)","label":"laptop 7"}"#)
            #expect(issued.status == .created)
            let o = try json(issued.body)
            guard case .string(let token)? = o["token"], case .string(let id)? = o["id"] else {
                Issue.record("no token in \(String(buffer: issued.body))")
                return
            }
            #expect(token.hasPrefix("lbk_acme_"))
            #expect(o["user"] == .string(user))
            #expect(o["role"] == .string("agent"))
            #expect(o["label"] == .string("laptop 7"))
            // Bound to the user: it may send that user's events, and only those.
            let own = try await send(client, .post, "/v1/events", token: token, body: "[\(event(1))]")
            #expect(own.status == .ok)

            let list = try await send(client, .get, "/v1/tokens", token: f.admin)
            #expect(list.status == .ok)
            let text = String(buffer: list.body)
            for secret in [token, f.agent, f.admin] {
                #expect(!text.contains(String(secret.suffix(64))))
            }
            guard case .array(let tokens)? = try json(list.body)["tokens"] else {
                Issue.record("no list")
                return
            }
            #expect(tokens.count == 3)
            #expect(text.contains(#""id":"\#(id)""#))

            let revoke = try await send(client, .delete, "/v1/tokens/\(id)", token: f.admin)
            #expect(revoke.status == .noContent)
            let after = try await send(client, .post, "/v1/events", token: token, body: "[\(event(2))]")
            #expect(after.status == .unauthorized)
            let listed = try await send(client, .get, "/v1/tokens", token: f.admin)
            #expect(
                String(buffer: listed.body).contains(
                    #""id":"\#(id)","role":"agent","user":"\#(user)","label":"laptop 7""#))
            #expect(String(buffer: listed.body).contains(#""revoked":true"#))

            let admin2 = try await send(client, .post, "/v1/tokens", token: f.admin, body: #"{"role":"admin"}"#)
            #expect(admin2.status == .created)
            let asAgent = try await send(client, .post, "/v1/tokens", token: f.agent, body: #"{"role":"admin"}"#)
            #expect(asAgent.status == .forbidden)
        }
    }

    @Test("bad token requests are 400 and issue nothing; unknown ids are 404; the last admin token stays (409)")
    func tokenRefusals() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: .withOperator(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            for bad in [
                #"{"role":"owner"}"#, #"{"user":"not-a-uuid"}"#, #"{"label":7}"#, #"{"secret":"x"}"#,
                #"{"label":"\#(String(repeating: "l", count: 129))"}"#, "[]",
            ] {
                let r = try await send(client, .post, "/v1/tokens", token: f.admin, body: bad)
                #expect(r.status == .badRequest, "\(bad)")
            }
            #expect(try f.store.listTokens(tenant: TenantID("acme")!).count == 2)
            for badID in ["xyz", "ABCDEF012345", String(f.admin.suffix(64))] {
                let r = try await send(client, .delete, "/v1/tokens/\(badID)", token: f.admin)
                #expect(r.status == .badRequest, "\(badID)")
            }
            let missing = try await send(client, .delete, "/v1/tokens/000000000000", token: f.admin)
            #expect(missing.status == .notFound)
            let ids = try f.store.listTokens(tenant: TenantID("acme")!).filter { $0.record.role == .admin }.map(\.id)
            #expect(ids.count == 1)
            let last = try await send(client, .delete, "/v1/tokens/\(ids[0])", token: f.admin)
            #expect(last.status == .conflict)
            let still = try await send(client, .get, "/v1/tokens", token: f.admin)
            #expect(still.status == .ok)
        }
    }
}
