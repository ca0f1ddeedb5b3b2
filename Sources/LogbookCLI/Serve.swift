import ArgumentParser
import CoreMetrics
import Foundation
import Hummingbird
import LogbookCore
import LogbookServer
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API (ingest and queries); SIGTERM or SIGINT drains the queues and exits 0.")

    @OptionGroup var store: StoreOptions
    @OptionGroup(title: "Engine") var engine: EngineOptions
    @Option(help: "Address to listen on, HOST:PORT (env LOGBOOK_LISTEN).")
    var listen: String = ProcessInfo.processInfo.environment["LOGBOOK_LISTEN"] ?? "127.0.0.1:8080"
    @Option(help: "Largest request body in bytes.") var maxBodyBytes: Int = 8 << 20
    @Option(help: "Most events per ingest request.") var maxEventsPerRequest: Int = 10_000
    @Option(help: "PEM certificate chain: serve HTTPS (TLS 1.3 only); needs --tls-key.") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Flag(help: "Production: with TLS, send Strict-Transport-Security (also LOGBOOK_ENV=production).")
    var production = false
    @Option(
        help: ArgumentHelp(
            "File holding the operator token, which alone may create tenants over HTTP (or env LOGBOOK_OPERATOR_TOKEN).",
            discussion: "Without one, POST /v1/tenants is refused; `logbook tenants create` still works."))
    var operatorTokenFile: String?

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw CLIError("--listen must be HOST:PORT") }
        let engineOptions = try engine.options()
        let environment = ProcessInfo.processInfo.environment
        var config = ServerConfiguration()
        config.host = String(listen[..<colon])
        config.port = port
        config.maxBodyBytes = maxBodyBytes
        config.maxEventsPerRequest = maxEventsPerRequest
        config.production = production || environment["LOGBOOK_ENV"] == "production"
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?): config.tls = TLSFiles(certificateChain: cert, privateKey: key)
        case (nil, nil): break
        default: throw CLIError("--tls-cert and --tls-key go together")
        }
        // A secret never comes from the command line, where `ps` shows it to every user.
        var operatorToken = environment["LOGBOOK_OPERATOR_TOKEN"]
        if let operatorTokenFile {
            guard let text = try? String(contentsOfFile: operatorTokenFile, encoding: .utf8) else {
                throw CLIError("cannot read --operator-token-file \(operatorTokenFile)")
            }
            operatorToken = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let operatorToken { try config.setOperatorToken(operatorToken) }
        // Before the store opens: it takes its commit metrics from the bootstrapped factory.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        let logStore = try store.openStore(options: engineOptions)
        // Built first: a bad certificate or key stops here, before a demo tenant is made.
        let app = try buildApplication(
            configuration: config, store: logStore, logger: Logger(label: "logbook.server"), metrics: metrics)
        if logStore.tenants().isEmpty {
            // First start: a demo tenant, its tokens shown this once (only their hashes are kept).
            let tenant = TenantID("demo")!
            let agent = try logStore.issueToken(tenant: tenant, role: .agent, label: "demo agent")
            let admin = try logStore.issueToken(tenant: tenant, role: .admin, label: "demo admin")
            say("created tenant demo; these tokens are shown once:")
            say("  agent token: \(agent.token)")
            say("  admin token: \(admin.token)")
        }
        say("serving on \(config.tls == nil ? "http" : "https")://\(listen) with data in \(store.data)")
        try await app.runService()
        logStore.close()
    }
}

struct Tenants: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage tenants.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create tenants and print one {\"tenant\",\"agent_token\",\"admin_token\"} line each (tokens shown once)."
        )
        @OptionGroup var store: StoreOptions
        @Argument(help: "The tenants' names.") var names: [String]

        func run() throws {
            // All names are checked first, so that a bad one creates nothing.
            let tenants = try names.map(parseTenant)
            guard !tenants.isEmpty else { throw CLIError("name at least one tenant") }
            guard Set(tenants).count == tenants.count else { throw CLIError("a tenant is named twice") }
            let logStore = try store.openStore()
            defer { logStore.close() }
            let existing = Set(logStore.tenants())
            if let tenant = tenants.first(where: existing.contains) {
                throw CLIError("tenant \(tenant) already exists")
            }
            for tenant in tenants {
                let agent = try logStore.issueToken(tenant: tenant, role: .agent, label: "agent")
                let admin = try logStore.issueToken(tenant: tenant, role: .admin, label: "admin")
                say(#"{"tenant":"\#(tenant)","agent_token":"\#(agent.token)","admin_token":"\#(admin.token)"}"#)
            }
        }
    }
}

struct Tokens: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue, list and revoke a tenant's tokens.", subcommands: [Issue.self, List.self, Revoke.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token and print it (shown once).")
        @OptionGroup var store: StoreOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "agent (ingest only) or admin.") var role: String = "agent"
        @Option(help: "Bind the token to one user id: it may then only send that user's events.") var user: String?
        @Option(help: "A label to recognise the token by.") var label: String = ""

        func run() throws {
            let t = try parseTenant(tenant)
            let r: TokenRole
            switch role {
            case "agent": r = .agent
            case "admin": r = .admin
            default: throw CLIError("--role must be agent or admin")
            }
            var userID: UserID?
            if let user {
                guard let u = UUID128(user) else { throw CLIError("--user must be a UUID") }
                userID = u
            }
            let logStore = try store.openStore(create: false)
            defer { logStore.close() }
            _ = try tenantsToUse(logStore, tenant)
            let issued = try logStore.issueToken(tenant: t, role: r, user: userID, label: label)
            say(#"{"tenant":"\#(t)","id":"\#(issued.id)","role":"\#(r)","token":"\#(issued.token)"}"#)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's tokens (ids, never the tokens).")
        @OptionGroup var store: StoreOptions
        @Option(help: "The tenant.") var tenant: String

        func run() throws {
            let logStore = try store.openStore(create: false)
            defer { logStore.close() }
            let t = try tenantsToUse(logStore, tenant)[0]
            for entry in try logStore.listTokens(tenant: t) {
                let r = entry.record
                say("\(entry.id)  \(r.role)  \(r.revoked ? "revoked" : "active")  \(r.created)  \(r.label)")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (or the token itself).")
        @OptionGroup var store: StoreOptions
        @Option(help: "The tenant.") var tenant: String
        @Argument(help: "The token's id from `tokens list`, or the token.") var token: String

        func run() throws {
            let logStore = try store.openStore(create: false)
            defer { logStore.close() }
            let t = try tenantsToUse(logStore, tenant)[0]
            guard try logStore.revokeToken(tenant: t, idOrToken: token) else { throw CLIError("no such token") }
            say("revoked")
        }
    }
}

/// The engine's limits and threads, for `serve`; the defaults are `LogStore.Options`'.
struct EngineOptions: ParsableArguments {
    @Option(help: "How long a small commit waits for more appends to join it, microseconds (0: commit at once).")
    var batchWindowUs: Int = LogStore.Options().maxBatchDelayMicros
    @Option(help: "Most events one commit (one fsync) takes from a tenant's queue.")
    var maxBatchEvents: Int = LogStore.Options().maxBatchEvents
    @Option(help: "Events waiting in one tenant's queue before its appends get 429.")
    var maxQueuedEventsPerTenant: Int = LogStore.Options().maxQueuedEventsPerTenant
    @Option(help: "Events waiting in all queues before appends get 429.")
    var maxQueuedEvents: Int = LogStore.Options().maxQueuedEvents
    @Option(help: "Tenant environments kept open (LRU).")
    var maxOpenTenants: Int = LogStore.Options().maxOpenTenants
    @Option(help: "Threads that run commits.")
    var commitThreads: Int = LogStore.Options().commitThreads
    @Option(help: "Threads that keep projections live (0: only on query).")
    var projectionThreads: Int = LogStore.Options().projectionThreads
    @Option(help: "Nice value of the projection threads (0-19; higher: shorter ack latency, more projection lag).")
    var projectionNice: Int32 = LogStore.Options().projectionNiceness
    @Option(
        help:
            "Shortest time between two projection turns of one tenant, milliseconds (longer: less work per event, more lag)."
    )
    var projectionIntervalMs: Int = LogStore.Options().projectionIntervalMicros / 1000
    @Option(
        help:
            "Longest a projection turn is put off while commits are running, milliseconds (longer: shorter acks under load, more lag)."
    )
    var projectionDeferMs: Int = LogStore.Options().projectionDeferMicros / 1000
    @Option(help: "Committed events kept in memory for the projections, all tenants together (0: read the log).")
    var maxCommittedEventsInMemory: Int = LogStore.Options().maxCommittedEventsInMemory

    /// The options, or a one-line error naming the flag out of range.
    func options() throws -> LogStore.Options {
        let positive = [
            ("--max-batch-events", maxBatchEvents), ("--max-queued-events-per-tenant", maxQueuedEventsPerTenant),
            ("--max-queued-events", maxQueuedEvents), ("--max-open-tenants", maxOpenTenants),
            ("--commit-threads", commitThreads),
        ]
        for (name, value) in positive where value < 1 { throw CLIError("\(name) must be at least 1") }
        if batchWindowUs < 0 || batchWindowUs > 1_000_000 {
            throw CLIError("--batch-window-us must be between 0 and 1000000")
        }
        if projectionThreads < 0 { throw CLIError("--projection-threads must not be negative") }
        if !(0...19).contains(projectionNice) { throw CLIError("--projection-nice must be between 0 and 19") }
        if !(0...10_000).contains(projectionIntervalMs) {
            throw CLIError("--projection-interval-ms must be between 0 and 10000")
        }
        if !(0...10_000).contains(projectionDeferMs) {
            throw CLIError("--projection-defer-ms must be between 0 and 10000")
        }
        if maxCommittedEventsInMemory < 0 { throw CLIError("--max-committed-events-in-memory must not be negative") }
        var o = LogStore.Options()
        o.maxBatchDelayMicros = batchWindowUs
        o.maxBatchEvents = maxBatchEvents
        o.maxQueuedEventsPerTenant = maxQueuedEventsPerTenant
        o.maxQueuedEvents = maxQueuedEvents
        o.maxOpenTenants = maxOpenTenants
        o.commitThreads = commitThreads
        o.projectionThreads = projectionThreads
        o.projectionNiceness = projectionNice
        o.projectionIntervalMicros = projectionIntervalMs * 1000
        o.projectionDeferMicros = projectionDeferMs * 1000
        o.maxCommittedEventsInMemory = maxCommittedEventsInMemory
        return o
    }
}
