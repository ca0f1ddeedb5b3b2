import ArgumentParser
import Foundation
import LogbookCore

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append the events of an NDJSON file (v1 wire envelope); tenants are created on first use.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "The NDJSON file, one event per line.") var file: String
    @Option(help: "Events per append, per tenant.") var batch: Int = 1000

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: file) else { throw CLIError("cannot read \(file)") }
        guard batch >= 1 else { throw CLIError("--batch must be at least 1") }
        let logStore = try store.openStore()
        defer { logStore.close() }
        let report = try ingestWithProgress(logStore, file: file, batch: batch)
        if report.rejected > 0 || report.failure != nil { throw ExitCode(1) }
    }
}

/// Ingests `file`, drawing a progress bar, and prints the summary.
func ingestWithProgress(_ store: LogStore, file: String, batch: Int) throws -> NDJSONIngester.Report {
    var ingester = NDJSONIngester(store: store)
    ingester.batchEvents = batch
    var bar = ProgressBar("ingest")
    let report = try ingester.ingest(path: file) { done, total, lines in
        bar.update(done: done, total: total, items: lines, unit: "events")
    }
    bar.update(done: report.bytes, total: report.bytes, items: report.lines, unit: "events", force: true)
    bar.finish()
    say(
        "ingested \(fmt(report.appended)) events (\(fmt(report.duplicates)) duplicates, \(fmt(report.rejected)) rejected"
            + (report.refused > 0 ? ", \(fmt(report.refused)) refused by the log's rules" : "") + ") "
            + "from \(fmt(report.bytes)) bytes in \(String(format: "%.2f", report.seconds)) s: "
            + "\(fmt(Int(report.eventsPerSecond))) events/s")
    for r in report.rejections {
        FileHandle.standardError.write(Data("line \(r.line): \(r.error)\n".utf8))
    }
    if report.rejected > report.rejections.count {
        FileHandle.standardError.write(
            Data("... and \(report.rejected - report.rejections.count) more rejected lines\n".utf8))
    }
    if let failure = report.failure {
        FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
    }
    return report
}
