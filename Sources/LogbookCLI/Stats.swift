import ArgumentParser
import Foundation
import LogbookCore

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show tenants, events, blocks, raw and stored bytes and the compression ratio.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Only this tenant.") var tenant: String?

    func run() throws {
        let logStore = try store.openStore(create: false)
        defer { logStore.close() }
        let tenants = try tenantsToUse(logStore, tenant)
        var total = (events: UInt64(0), blocks: UInt64(0), raw: UInt64(0), log: UInt64(0), files: UInt64(0))
        let header = "tenant".padding(toLength: 12, withPad: " ", startingAt: 0)
        print(
            "\(header) \(col("events")) \(col("blocks")) \(col("raw bytes")) \(col("log bytes")) \(col("disk bytes")) \(col("ratio", 7)) \(col("log B/ev", 9))"
        )
        for t in tenants {
            let s = try logStore.stats(t)
            total.events += s.events; total.blocks += s.blocks; total.raw += s.rawBytes
            total.log += s.logBytes; total.files += s.fileBytes
            printRow(t.rawValue, s.events, s.blocks, s.rawBytes, s.logBytes, s.fileBytes)
        }
        if tenants.count > 1 {
            printRow("total (\(tenants.count))", total.events, total.blocks, total.raw, total.log, total.files)
        }
    }

    private func col(_ s: String, _ w: Int = 14) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }

    private func printRow(
        _ name: String, _ events: UInt64, _ blocks: UInt64, _ raw: UInt64, _ log: UInt64, _ files: UInt64
    ) {
        let ratio = log > 0 ? String(format: "%.1fx", Double(raw) / Double(log)) : "-"
        let perEvent = events > 0 ? String(format: "%.1f", Double(log) / Double(events)) : "-"
        print(
            "\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(col(fmt(Int(events)))) \(col(fmt(Int(blocks)))) \(col(fmt(Int(raw)))) \(col(fmt(Int(log)))) \(col(fmt(Int(files)))) \(col(ratio, 7)) \(col(perEvent, 9))"
        )
    }
}
