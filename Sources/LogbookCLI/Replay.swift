import ArgumentParser
import Foundation
import LogbookCore
import LogbookJSON

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a tenant's events as NDJSON to standard output, or rebuild its projections.",
        discussion: """
            With --projection, rebuilds the tenant's projections from sequence 1 into fresh state and \
            switches to it atomically: readers see the old state until the new one is complete. The \
            built-in projections derive from one fold, so any of timeline, daily, team or audit (or all) \
            rebuilds them all.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "First sequence.") var from: UInt64 = 1
    @Option(help: "Last sequence.") var to: UInt64 = .max
    @Option(help: "Rebuild this projection (timeline, daily, team, audit or all) instead of writing events.")
    var projection: String?

    func run() throws {
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
        guard projection == "all" || LogStore.projectionNames.contains(projection) else {
            throw CLIError(
                "unknown projection \(projection) (use \(LogStore.projectionNames.joined(separator: ", ")) or all)")
        }
        var options = LogStore.Options()
        options.projectionThreads = 0
        let logStore = try store.openStore(options: options, create: false)
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
}
