import ArgumentParser
import Foundation
import LogbookCore
import LogbookJSON
import Synchronization

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a tenant's events as NDJSON to standard output, or rebuild its projections.",
        discussion: """
            With --projection, rebuilds the tenant's projections from sequence 1 into fresh state and \
            switches to it atomically: readers see the old state until the new one is complete. The \
            built-in projections derive from one fold, so any of timeline, daily, team or audit (or all) \
            rebuilds them all. With --all-tenants instead of --tenant, rebuilds every tenant's \
            projections, several tenants at a time (--concurrency, default two per core).
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "The tenant.") var tenant: String?
    @Flag(help: "With --projection: rebuild the projections of every tenant.") var allTenants = false
    @Option(help: "With --all-tenants: tenants rebuilt at a time (default: two per core).") var concurrency: Int?
    @Option(help: "First sequence.") var from: UInt64 = 1
    @Option(help: "Last sequence.") var to: UInt64 = .max
    @Option(help: "Rebuild this projection (timeline, daily, team, audit or all) instead of writing events.")
    var projection: String?

    func run() throws {
        if allTenants {
            guard tenant == nil else { throw CLIError("give --tenant or --all-tenants, not both") }
            guard let projection else { throw CLIError("--all-tenants rebuilds projections: add --projection") }
            return try rebuildAll(projection)
        }
        guard let tenant else { throw CLIError("--tenant is required (or --all-tenants with --projection)") }
        guard concurrency == nil else { throw CLIError("--concurrency goes with --all-tenants") }
        let t = try parseTenant(tenant)
        if let projection { return try rebuild(t, projection) }
        guard from >= 1, from <= to else { throw CLIError("--from must be at least 1 and not after --to") }
        let logStore = try store.openStore(create: false)
        defer { logStore.close() }
        _ = try tenantsToUse(logStore, tenant)
        var writer = JSONWriter(capacity: 1 << 16)
        let out = FileHandle.standardOutput
        try logStore.read(t, from: from, to: to) { event in
            event.writeJSON(tenant: t, into: &writer)
            writer.bytes.append(UInt8(ascii: "\n"))
            if writer.bytes.count > 1 << 16 {
                out.write(Data(writer.bytes))
                writer.reset()
            }
            return true
        }
        out.write(Data(writer.bytes))
    }

    private func rebuild(_ t: TenantID, _ projection: String) throws {
        let logStore = try openForRebuild(projection)
        defer { logStore.close() }
        _ = try tenantsToUse(logStore, tenant)
        var bar = ProgressBar("rebuild")
        let start = Date()
        let applied = try logStore.rebuildProjections(t) { done, head in
            bar.update(done: Int(done), total: Int(head), items: Int(done), unit: "events", force: true)
        }
        bar.finish()
        let seconds = max(Date().timeIntervalSince(start), 1e-6)
        say(
            "rebuilt the projections of \(t) through sequence \(applied) in \(String(format: "%.2f", seconds)) s: \(fmt(Int(Double(applied) / seconds))) events/s"
        )
    }

    private func rebuildAll(_ projection: String) throws {
        if let concurrency, concurrency < 1 { throw CLIError("--concurrency must be at least 1") }
        let logStore = try openForRebuild(projection)
        defer { logStore.close() }
        let bar = Mutex(ProgressBar("rebuild"))
        let start = Date()
        let applied = try logStore.rebuildProjections(concurrency: concurrency) { p in
            bar.withLock {
                $0.update(done: Int(p.events), total: Int(p.totalEvents), items: Int(p.events), unit: "events")
            }
        }
        let tenants = logStore.tenants().count
        bar.withLock {
            $0.update(done: Int(applied), total: Int(applied), items: Int(applied), unit: "events", force: true)
            $0.finish()
        }
        let seconds = max(Date().timeIntervalSince(start), 1e-6)
        say(
            "rebuilt the projections of \(tenants) tenants (\(fmt(Int(applied))) events) in \(String(format: "%.2f", seconds)) s: \(fmt(Int(Double(applied) / seconds))) events/s"
        )
    }

    /// The store, for a rebuild of `projection`, without projection threads of its own.
    private func openForRebuild(_ projection: String) throws -> LogStore {
        guard projection == "all" || LogStore.projectionNames.contains(projection) else {
            throw CLIError(
                "unknown projection \(projection) (use \(LogStore.projectionNames.joined(separator: ", ")) or all)")
        }
        var options = LogStore.Options()
        options.projectionThreads = 0
        return try store.openStore(options: options, create: false)
    }
}
