import ArgumentParser
import Foundation
import LogbookCore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export everything Logbook holds about one person, as JSON or CSV, to standard output.")

    @OptionGroup var store: StoreOptions
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "The user (id).") var user: String
    @Option(help: "json or csv.") var format: String = "json"

    func run() throws {
        let t = try parseTenant(tenant)
        let u = try uuid(user, "--user")
        guard let f = ExportFormat(rawValue: format) else { throw CLIError("--format must be json or csv") }
        let logStore = try store.openStore(create: false)
        defer { logStore.close() }
        _ = try tenantsToUse(logStore, tenant)
        let out = FileHandle.standardOutput
        try logStore.exportPerson(t, user: u, format: f) { out.write(Data($0)) }
    }
}
