import ArgumentParser
import Foundation
import LogbookCore

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End to end: ingest the sample workload, show the rate, replay every tenant, verify every chain.")

    @OptionGroup var store: StoreOptions
    @Option(help: "An NDJSON workload; by default one is generated with ../shared/workload/generate.py.")
    var file: String?
    @Option(help: "Events to generate when no --file is given.") var events: Int = 200_000

    func run() throws {
        let path = try file ?? generateWorkload()
        let logStore = try store.openStore()
        defer { logStore.close() }

        say("== 1. ingest \(path) (durable: fsync before every acknowledgement)")
        let report = try ingestWithProgress(logStore, file: path, batch: 1000)
        if report.duplicates > 0 && report.appended == 0 {
            say("   every event was already stored: re-ingesting is idempotent")
        }

        say("== 2. replay every tenant (decode every stored event)")
        let tenants = logStore.tenants()
        let start = DispatchTime.now()
        var replayed = 0
        var bar = ProgressBar("replay")
        for (i, t) in tenants.enumerated() {
            try logStore.read(t) { _ in
                replayed += 1
                return true
            }
            bar.update(done: i + 1, total: tenants.count, items: replayed, unit: "events")
        }
        bar.update(done: tenants.count, total: tenants.count, items: replayed, unit: "events", force: true)
        bar.finish()
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        say(
            "replayed \(fmt(replayed)) events of \(tenants.count) tenants in \(String(format: "%.2f", secs)) s: \(fmt(Int(Double(replayed) / secs))) events/s"
        )

        say("== 3. verify every hash chain")
        let ok = try verifyAll(logStore, tenants: tenants, quiet: true)

        say("== 4. storage")
        var raw: UInt64 = 0, log: UInt64 = 0, disk: UInt64 = 0, count: UInt64 = 0
        for t in tenants {
            let s = try logStore.stats(t)
            raw += s.rawBytes; log += s.logBytes; disk += s.fileBytes; count += s.events
        }
        let json = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let per = { (b: UInt64) in count > 0 ? String(format: "%.1f", Double(b) / Double(count)) : "-" }
        say(
            "\(fmt(Int(count))) events: JSON \(count > 0 ? String(format: "%.1f", Double(json) / Double(count)) : "-") B/event, "
                + "log blocks \(per(log)) B/event, LMDB files \(per(disk)) B/event (indexes included)")
        say("try: logbook replay --data \(store.data) --tenant \(tenants.first?.rawValue ?? "t000") --to 3")
        if !ok { throw ExitCode(1) }
    }

    /// Runs the standard workload generator into the data directory (once).
    private func generateWorkload() throws -> String {
        try FileManager.default.createDirectory(atPath: store.data, withIntermediateDirectories: true)
        let out = store.data + "/demo-workload-\(events).ndjson"
        if FileManager.default.fileExists(atPath: out) { return out }
        let candidates = [
            ProcessInfo.processInfo.environment["LOGBOOK_WORKLOAD_GENERATOR"],
            "../shared/workload/generate.py", "../../shared/workload/generate.py",
        ].compactMap { $0 }
        guard let generator = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw CLIError("no workload: pass --file, or set LOGBOOK_WORKLOAD_GENERATOR to shared/workload/generate.py")
        }
        say("generating \(fmt(events)) events with \(generator) ...")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", generator, out, "--n", String(events)]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CLIError("the workload generator failed") }
        return out
    }
}
