import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookJSON
import LogbookServer
import LogbookTestSupport
import NIOCore
import Testing

/// specs/openapi.yaml in this checkout.
let specPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("specs/openapi.yaml").path

@Suite("OpenAPI spec and routes agree")
struct OpenAPITests {
    @Test("the spec built into the server is specs/openapi.yaml byte for byte (else run tools/embed-openapi)")
    func embeddedIsCurrent() throws {
        let file = try String(contentsOfFile: specPath, encoding: .utf8)
        #expect(file == OpenAPISpec.yaml, "run tools/embed-openapi")
    }

    @Test("every registered route is in the spec and every spec operation is registered")
    func routesMatchSpec() throws {
        let document = try OpenAPIDocument(yaml: String(contentsOfFile: specPath, encoding: .utf8))
        let f = try Fixture()
        defer { f.store.close() }
        let router = buildRouter(configuration: ServerConfiguration(), store: f.store, metrics: ServerMetrics())
        let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = Set(document.operations.map { "\($0.method) \($0.path)" })
        #expect(registered.subtracting(documented).isEmpty, "routes missing from the spec")
        #expect(documented.subtracting(registered).isEmpty, "spec operations with no route")
        #expect(registered.count == 19)
    }

    @Test("a request to every operation gets a status its operation documents")
    func everyOperationAnswersAsDocumented() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let spec = SpecChecker()
        let app = try buildApplication(configuration: .withOperator(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            for path in ["/healthz", "/readyz", "/metrics", "/api/schema", "/api/docs"] {
                let r = try await spec.call(client, .get, path)
                #expect(r.status == .ok)
            }
            let tenant = try await spec.call(
                client, .post, "/v1/tenants", token: operatorToken, body: #"{"tenant":"t1"}"#)
            #expect(tenant.status == .created)
            let issued = try await spec.call(client, .post, "/v1/tokens", token: f.admin, body: "{}")
            #expect(issued.status == .created)
            guard case .string(let id)? = try json(issued.body)["id"] else { return }
            let list = try await spec.call(client, .get, "/v1/tokens", token: f.admin)
            #expect(list.status == .ok)
            let ingest = try await spec.call(client, .post, "/v1/events", token: f.agent, body: "[\(event(1))]")
            #expect(ingest.status == .ok)
            let read = try await spec.call(client, .get, "/v1/events", token: f.admin)
            #expect(read.status == .ok)
            let stats = try await spec.call(client, .get, "/v1/stats", token: f.admin)
            #expect(stats.status == .ok)
            let user = "6b9f2ec5-1cfd-4033-aa22-a9dc692301fc"
            for (template, query) in [
                ("/v1/timeline", "?user=\(user)&wait_for_seq=1"), ("/v1/daily", "?user=\(user)&from=2025-01-01"),
                ("/v1/team", "?manager=\(user)&from=2025-01-01&cost=true"), ("/v1/audit", "?limit=1"),
                ("/v1/export", "?user=\(user)"), ("/v1/export", "?user=\(user)&format=csv"), ("/v1/projections", ""),
            ] {
                let r = try await spec.call(client, .get, template, uri: template + query, token: f.admin)
                #expect(r.status == .ok, "\(template)\(query)")
            }
            let rebuild = try await spec.call(client, .post, "/v1/projections/rebuild", token: f.admin)
            #expect(rebuild.status == .ok)
            let revoke = try await spec.call(
                client, .delete, "/v1/tokens/{id}", uri: "/v1/tokens/\(id)", token: f.admin)
            #expect(revoke.status == .noContent)
            // Error paths the other suites do not reach.
            let badQuery = try await spec.call(client, .get, "/v1/events", uri: "/v1/events?limit=0", token: f.admin)
            #expect(badQuery.status == .badRequest)
            let badType = try await spec.call(
                client, .post, "/v1/tokens", token: f.admin, body: "{}", type: "text/plain")
            #expect(badType.status == .unsupportedMediaType)
            let badDate = try await spec.call(
                client, .get, "/v1/daily", uri: "/v1/daily?user=\(user)&from=yesterday", token: f.admin)
            #expect(badDate.status == .badRequest)
            var tiny = ServerConfiguration()
            tiny.maxExportBytes = 10
            let small = try buildApplication(configuration: tiny, store: f.store, logger: quietLogger)
            try await small.test(.router) { client in
                let tooLarge = try await spec.call(
                    client, .get, "/v1/export", uri: "/v1/export?user=\(user)", token: f.admin)
                #expect(tooLarge.status == .unprocessableContent)
            }
        }
        let all = Set(spec.document.operations.map { "\($0.method) \($0.path)" })
        #expect(spec.visitedOperations == all)
    }

    @Test("/api/schema serves the spec; /api/docs is one self-contained page listing every operation")
    func schemaAndDocs() async throws {
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(configuration: ServerConfiguration(), store: f.store, logger: quietLogger)
        try await app.test(.router) { client in
            let schema = try await send(client, .get, "/api/schema")
            #expect(schema.headers[.contentType] == "application/yaml")
            #expect(String(buffer: schema.body) == OpenAPISpec.yaml)
            let docs = try await send(client, .get, "/api/docs")
            #expect(docs.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: docs.body)
            for op in OpenAPISpec.document.operations {
                #expect(
                    html.contains("<span class=m>\(op.method)</span><code>\(op.path)</code>"), "\(op.method) \(op.path)"
                )
            }
            #expect(html.contains("specs/events.md"))
            // Nothing is fetched from elsewhere: no scripts, stylesheets, images or frames.
            for fetch in ["<script", "<link", "src=", "@import", "url("] { #expect(!html.contains(fetch), "\(fetch)") }
        }
    }
}
