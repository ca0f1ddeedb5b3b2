import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookServer
import LogbookTestSupport
import NIOCore
import Testing

/// Runs a command line tool to completion; returns its exit status and what it printed.
func run(_ tool: String, _ arguments: [String], stdin: String = "") throws -> (status: Int32, output: String) {
    let r = try runChild("/usr/bin/env", [tool] + arguments, input: Data(stdin.utf8))
    return (r.status, String(decoding: r.stdout + r.stderr, as: UTF8.self))
}

/// A self-signed certificate for localhost and 127.0.0.1, made by the openssl command line tool.
struct SelfSignedCertificate {
    let dir = TemporaryDirectory("logbook-tls")
    var certificate: String { dir.path + "/cert.pem" }
    var key: String { dir.path + "/key.pem" }

    init() throws {
        let r = try run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", dir.path + "/key.pem", "-out", dir.path + "/cert.pem",
            ])
        guard r.status == 0 else { throw ConfigurationError("openssl req failed: \(r.output)") }
    }
}

@Suite("HTTPS")
struct TLSTests {
    func configuration(_ cert: SelfSignedCertificate, production: Bool) -> ServerConfiguration {
        var config = ServerConfiguration()
        config.port = 0
        config.tls = TLSFiles(certificateChain: cert.certificate, privateKey: cert.key)
        config.production = production
        return config
    }

    @Test("a real TLS 1.3 round trip verifies the certificate; TLS 1.2 clients are refused; production adds HSTS")
    func roundTrip() async throws {
        let cert = try SelfSignedCertificate()
        let f = try Fixture()
        defer { f.store.close() }
        let app = try buildApplication(
            configuration: configuration(cert, production: true), store: f.store, logger: quietLogger)
        try await app.test(.ahc(.https)) { client in
            let port = try #require(client.port)
            // In-process client: ingest over TLS, and HSTS on success and on errors alike.
            let ingest = try await send(client, .post, "/v1/events", token: f.agent, body: "[\(event(1))]")
            #expect(ingest.status == .ok)
            #expect(ingest.headers[.strictTransportSecurity] == "max-age=31536000; includeSubDomains")
            let refused = try await send(client, .get, "/v1/events", token: f.agent)
            #expect(refused.status == .forbidden)
            #expect(refused.headers[.strictTransportSecurity] == "max-age=31536000; includeSubDomains")
            let missing = try await send(client, .get, "/nowhere")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.strictTransportSecurity] == "max-age=31536000; includeSubDomains")

            // curl checks the chain against the certificate and the host name, as a real client would.
            let url = "https://localhost:\(port)/v1/events?limit=1"
            let curl = try run(
                "curl", ["-sS", "--cacert", cert.certificate, "-H", "Authorization: Bearer \(f.admin)", url])
            #expect(curl.status == 0, "\(curl.output)")
            #expect(curl.output.contains(#""seq":1"#))
            let tls13 = try run("openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_3", "-brief"])
            #expect(tls13.status == 0, "\(tls13.output)")
            #expect(tls13.output.contains("TLSv1.3"))
            let tls12 = try run("openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_2", "-brief"])
            #expect(tls12.status != 0, "a TLS 1.2 client was accepted: \(tls12.output)")
            #expect(tls12.output.contains("protocol version"), "\(tls12.output)")
            let curl12 = try run(
                "curl",
                [
                    "-sS", "--cacert", cert.certificate, "--tlsv1.2", "--tls-max", "1.2",
                    "https://localhost:\(port)/healthz",
                ])
            #expect(curl12.status != 0, "\(curl12.output)")
            // Plain HTTP on the TLS port gets no answer.
            let plain = try run("curl", ["-sS", "--max-time", "5", "http://localhost:\(port)/healthz"])
            #expect(plain.status != 0)
            #expect(!plain.output.contains("ok"))
        }
    }

    @Test("no HSTS without --production, nor on plain HTTP even in production")
    func hstsOnlyInProductionWithTLS() async throws {
        let cert = try SelfSignedCertificate()
        let f = try Fixture()
        defer { f.store.close() }
        let tls = try buildApplication(
            configuration: configuration(cert, production: false), store: f.store, logger: quietLogger)
        try await tls.test(.ahc(.https)) { client in
            let r = try await send(client, .get, "/healthz")
            #expect(r.status == .ok)
            #expect(r.headers[.strictTransportSecurity] == nil)
        }
        var plainConfig = ServerConfiguration()
        plainConfig.production = true
        let plain = try buildApplication(configuration: plainConfig, store: f.store, logger: quietLogger)
        try await plain.test(.router) { client in
            let r = try await send(client, .get, "/healthz")
            #expect(r.headers[.strictTransportSecurity] == nil)
        }
    }

    @Test("a missing or invalid certificate is a configuration error naming the files")
    func badCertificate() throws {
        let f = try Fixture()
        defer { f.store.close() }
        var config = ServerConfiguration()
        config.tls = TLSFiles(certificateChain: f.dir.path + "/none.pem", privateKey: f.dir.path + "/none.key")
        #expect {
            _ = try buildApplication(configuration: config, store: f.store, logger: quietLogger)
        } throws: { error in
            (error as? ConfigurationError)?.description.contains("none.pem") == true
        }
    }
}
