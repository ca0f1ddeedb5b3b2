import ArgumentParser
import Foundation
import LogbookCore

struct Projections: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The projections built from each tenant's log.", subcommands: [List.self, Status.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name and describe the built-in projections.")

        func run() {
            say("timeline  per user: effective events, corrections applied, activity samples merged into intervals")
            say("daily     per user and local day: active/AFK time per app and category, attendance, projects")
            say("team      per manager and period: members' daily figures summed, top apps and categories")
            say("audit     admin events, corrections, retractions and changes to tasks, time entries, tags…")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checkpoint, lag and size of the projections, per tenant.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Only this tenant.") var tenant: String?

        func run() throws {
            var options = LogStore.Options()
            options.projectionThreads = 0
            let logStore = try store.openStore(options: options, create: false)
            defer { logStore.close() }
            say(
                "tenant".padding(toLength: 20, withPad: " ", startingAt: 0)
                    + "  gen  checkpoint        head         lag  timeline    daily    audit   people")
            for t in try tenantsToUse(logStore, tenant) {
                let s = try logStore.projectionStatus(t)
                let counts = Dictionary(uniqueKeysWithValues: s.entries.map { ($0.projection, $0.count) })
                func col(_ v: any CustomStringConvertible, _ width: Int) -> String {
                    String(repeating: " ", count: max(0, width - "\(v)".count)) + "\(v)"
                }
                say(
                    t.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0) + col(s.generation, 5)
                        + col(s.checkpoint, 12) + col(s.head, 12) + col(s.lag, 12)
                        + col(counts["timeline"] ?? 0, 10) + col(counts["daily"] ?? 0, 9)
                        + col(counts["audit"] ?? 0, 9) + col(counts["people"] ?? 0, 9))
            }
        }
    }
}
