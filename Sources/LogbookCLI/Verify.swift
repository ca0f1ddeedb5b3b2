import ArgumentParser
import Foundation
import LogbookCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk the hash chain; name the first bad block and exit non-zero if there is one.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Only this tenant.") var tenant: String?

    func run() throws {
        let logStore = try store.openStore(create: false)
        defer { logStore.close() }
        let ok = try verifyAll(logStore, tenants: try tenantsToUse(logStore, tenant))
        if !ok { throw ExitCode(1) }
    }
}

/// Verifies `tenants`, printing one line per tenant; false when any failed.
func verifyAll(_ store: LogStore, tenants: [TenantID], quiet: Bool = false) throws -> Bool {
    var bad = 0
    var blocks = 0
    var events = 0
    for t in tenants {
        let report = try store.verify(t)
        blocks += report.blocks
        events += report.events
        if let failure = report.failure {
            bad += 1
            say("tenant \(t): FAILED at \(failure)")
        } else if !quiet {
            say("tenant \(t): ok (\(fmt(report.blocks)) blocks, \(fmt(report.events)) events)")
        }
    }
    say(
        "verified \(tenants.count) tenants, \(fmt(blocks)) blocks, \(fmt(events)) events: \(bad == 0 ? "ok" : "\(bad) FAILED")"
    )
    return bad == 0
}
