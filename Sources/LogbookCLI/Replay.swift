import ArgumentParser
import Foundation
import LogbookCore
import LogbookJSON

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a tenant's events as NDJSON to standard output.")

    @OptionGroup var store: StoreOptions
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "First sequence.") var from: UInt64 = 1
    @Option(help: "Last sequence.") var to: UInt64 = .max

    func run() throws {
        let t = try parseTenant(tenant)
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
}
