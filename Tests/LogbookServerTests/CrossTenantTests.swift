import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookJSON
import LogbookServer
import LogbookTestSupport
import NIOCore
import Testing

@Suite("HTTP tenant isolation")
struct CrossTenantTests {
    /// A beta event whose title marks it, so any leak into an acme response is visible.
    func betaEvent(_ i: Int) -> String {
        event(900 + i).replacingOccurrences(of: #""title":"t\#(900 + i)""#, with: #""title":"BETA-SECRET-\#(i)""#)
    }

    @Test("every /v1 route refuses other tenants' tokens, revoked tokens and agent tokens, and leaks nothing")
    func everyRoute() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let acme = TenantID("acme")!, beta = TenantID("beta")!
        let betaAgent = try f.store.issueToken(tenant: beta, role: .agent, label: "beta agent").token
        let revoked = try f.store.issueToken(tenant: acme, role: .admin, label: "revoked").token
        #expect(try f.store.revokeToken(tenant: acme, idOrToken: revoked))
        let betaIDs = try f.store.listTokens(tenant: beta).map(\.id)
        let betaUser = "6b9f2ec5-1cfd-4033-aa22-a9dc692301fc"
        // Agent tokens bound to a user: acme's to that user (no beta data, and no other user's),
        // beta's to the same user id (its own tenant only).
        let acmeOwn = try f.store.issueToken(tenant: acme, role: .agent, user: UUID128(betaUser)!).token
        let acmeOther = try f.store.issueToken(
            tenant: acme, role: .agent, user: UUID128("9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d")!
        ).token
        let spec = SpecChecker()
        let app = try buildApplication(configuration: .withOperator(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let seeded = try await spec.call(
                client, .post, "/v1/events", token: betaAgent,
                body: "[\((1...3).map(betaEvent).joined(separator: ","))]")
            #expect(seeded.status == .ok)
            let betaTokensBefore = try f.store.listTokens(tenant: beta).map(\.record)

            // Every /v1 operation, each aimed at beta's data where the route takes anything.
            let routes: [(HTTPRequest.Method, String, uri: String, body: String?)] = [
                (.post, "/v1/events", "/v1/events", "[\(event(1, tenant: "beta"))]"),
                (.get, "/v1/events", "/v1/events?from_seq=1", nil),
                (.get, "/v1/stats", "/v1/stats", nil),
                (.post, "/v1/tenants", "/v1/tenants", #"{"tenant":"beta"}"#),
                (.post, "/v1/tokens", "/v1/tokens", #"{"role":"admin"}"#),
                (.get, "/v1/tokens", "/v1/tokens", nil),
                (.delete, "/v1/tokens/{id}", "/v1/tokens/\(betaIDs[0])", nil),
                // The projections, asked about the user beta's events are about (and wait for
                // beta's last sequence, which acme's log does not have).
                (.get, "/v1/timeline", "/v1/timeline?user=\(betaUser)", nil),
                (.get, "/v1/daily", "/v1/daily?user=\(betaUser)&from=2025-01-01", nil),
                (.get, "/v1/team", "/v1/team?manager=\(betaUser)&from=2025-01-01&cost=true", nil),
                (.get, "/v1/audit", "/v1/audit?user=\(betaUser)", nil),
                (.get, "/v1/export", "/v1/export?user=\(betaUser)", nil),
                (.get, "/v1/projections", "/v1/projections", nil),
                (.post, "/v1/projections/rebuild", "/v1/projections/rebuild", nil),
            ]
            let specOperations = Set(
                spec.document.operations.filter { $0.path.hasPrefix("/v1/") }.map { "\($0.method) \($0.path)" })
            #expect(Set(routes.map { "\($0.0.rawValue) \($0.1)" }) == specOperations)

            var bodies: [String] = []
            for (method, template, uri, body) in routes {
                func call(_ token: String?) async throws -> TestResponse {
                    let r = try await spec.call(client, method, template, uri: uri, token: token, body: body)
                    bodies.append(String(buffer: r.body))
                    return r
                }
                let anonymous = try await call(nil)
                #expect(anonymous.status == .unauthorized, "\(method) \(template) without a token")
                let withRevoked = try await call(revoked)
                #expect(withRevoked.status == .unauthorized, "\(method) \(template) with a revoked token")
                let asAgent = try await call(f.agent)
                // A user-bound agent token: its own user's timeline, daily figures and export only,
                // and in its own tenant (empty here); another user's are 403, as is everything else.
                let asOwn = try await call(acmeOwn)
                let asOther = try await call(acmeOther)
                #expect(
                    asOther.status
                        == (template == "/v1/events" && method == .post ? .unprocessableContent : .forbidden),
                    "\(method) \(template) with another user's token")
                switch (method, template) {
                case (.post, "/v1/events"): #expect(asOwn.status == .unprocessableContent)
                case (.get, "/v1/timeline"), (.get, "/v1/daily"), (.get, "/v1/export"):
                    #expect(asOwn.status == .ok, "\(method) \(template) with the user's own token")
                default: #expect(asOwn.status == .forbidden, "\(method) \(template) with a user-bound agent token")
                }
                if template == "/v1/events" && method == .post {
                    // An agent may ingest, but only into its own tenant: the beta event is refused.
                    #expect(asAgent.status == .unprocessableContent)
                    #expect(results(try json(asAgent.body)) == ["rejected tenant_mismatch tenant"])
                } else {
                    #expect(asAgent.status == .forbidden, "\(method) \(template) with an agent token")
                }
                let asOperator = try await call(operatorToken)
                if template == "/v1/tenants" {
                    #expect(asOperator.status == .conflict)
                } else {
                    #expect(asOperator.status == .forbidden, "\(method) \(template) with the operator token")
                }
                // acme's admin reaches its own tenant only.
                let asAdmin = try await call(f.admin)
                switch (method, template) {
                case (.post, "/v1/events"): #expect(asAdmin.status == .unprocessableContent)
                case (.get, "/v1/events"):
                    #expect(asAdmin.status == .ok)
                    #expect(try json(asAdmin.body)["events"] == .array([]))
                case (.get, "/v1/stats"):
                    #expect(try json(asAdmin.body)["tenant"] == .string("acme"))
                    #expect(try json(asAdmin.body)["events"] == .integer(0))
                case (.post, "/v1/tenants"): #expect(asAdmin.status == .forbidden)
                case (.post, "/v1/tokens"):
                    #expect(asAdmin.status == .created)
                    guard case .string(let token)? = try json(asAdmin.body)["token"] else { break }
                    #expect(token.hasPrefix("lbk_acme_"))
                case (.get, "/v1/tokens"): #expect(asAdmin.status == .ok)
                case (.delete, "/v1/tokens/{id}"): #expect(asAdmin.status == .notFound)
                case (.get, "/v1/timeline"): #expect(try json(asAdmin.body)["items"] == .array([]))
                case (.get, "/v1/daily"): #expect(try json(asAdmin.body)["days"] == .array([]))
                case (.get, "/v1/audit"): #expect(try json(asAdmin.body)["records"] == .array([]))
                case (.get, "/v1/export"): #expect(try json(asAdmin.body)["events"] == .array([]))
                case (.get, "/v1/team"), (.get, "/v1/projections"), (.post, "/v1/projections/rebuild"):
                    #expect(asAdmin.status == .ok)
                    #expect(!String(buffer: asAdmin.body).contains("\"head\":3"))
                default: Issue.record("unexpected route \(method) \(template)")
                }
            }
            for text in bodies {
                #expect(!text.contains("BETA-SECRET"))
                #expect(!text.contains("lbk_beta_"))
                #expect(!text.contains(#""tenant":"beta""#))
                for id in betaIDs { #expect(!text.contains(id)) }
            }
            // /metrics is public, so it must not name tenants either.
            let metrics = try await spec.call(client, .get, "/metrics")
            #expect(!String(buffer: metrics.body).contains("beta"))
            #expect(!String(buffer: metrics.body).contains("acme"))
            // Beta is untouched: same events, same tokens, and its tokens still work.
            #expect(try f.store.lastSequence(beta) == 3)
            #expect(try f.store.lastSequence(acme) == 0)
            #expect(try f.store.listTokens(tenant: beta).map(\.record) == betaTokensBefore)
            let betaRead = try await spec.call(client, .get, "/v1/events", token: f.betaAdmin)
            #expect(String(buffer: betaRead.body).contains("BETA-SECRET-3"))
        }
    }
}
