import Foundation
import LogbookJSON
import Synchronization

/// Loads NDJSON files in the v1 wire envelope into a `LogStore`: each line names its tenant,
/// lines are validated, grouped per tenant into batches and appended in file order.
public struct NDJSONIngester: Sendable {
    public var store: LogStore
    /// Events per append (per tenant).
    public var batchEvents = 1000
    /// How many rejected lines to keep in the report (all are counted).
    public var keepRejections = 20

    public init(store: LogStore) { self.store = store }

    /// What an ingest did.
    public struct Report: Sendable {
        public var lines = 0
        public var appended = 0
        public var duplicates = 0
        public var rejected = 0
        /// The first rejected lines (1-based line number) and why.
        public var rejections: [(line: Int, error: ValidationError)] = []
        /// A commit failure, if one happened (its events were not stored).
        public var failure: LogError?
        public var bytes = 0
        public var seconds = 0.0
        public var eventsPerSecond: Double { seconds > 0 ? Double(appended + duplicates) / seconds : 0 }
    }

    /// Ingests the file at `path`. `progress(bytesRead, totalBytes, linesRead)` is called now and then.
    public func ingest(path: String, progress: (Int, Int, Int) -> Void = { _, _, _ in }) throws -> Report {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        return data.withUnsafeBytes { ingest(buffer: $0, progress: progress) }
    }

    /// Ingests NDJSON from memory.
    public func ingest(buffer: UnsafeRawBufferPointer, progress: (Int, Int, Int) -> Void = { _, _, _ in }) -> Report {
        let start = DispatchTime.now()
        var report = Report()
        report.bytes = buffer.count
        let tracker = Tracker()
        var pending: [TenantID: [Event]] = [:]
        var validator = EventValidator(now: Timestamp.now())

        func flush(_ tenant: TenantID, _ events: [Event]) {
            tracker.begin()
            while true {
                do {
                    try store.submit(events, to: tenant) { tracker.finish($0) }
                    return
                } catch {
                    guard error.code == .queueFull || error.code == .tooManyOpenTenants else {
                        tracker.finish(.failure(error))
                        return
                    }
                    usleep(500)  // back-pressure: the commit threads are behind
                }
            }
        }

        var lastProgress = 0
        for (lineNumber, line) in NDJSONLines(buffer) {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            report.lines += 1
            do throws(ValidationError) {
                let v = try validator.validate(line: line)
                guard let tenant = v.tenant else {
                    throw ValidationError(.missingField, field: "tenant", "is required when ingesting a file")
                }
                pending[tenant, default: []].append(v.event)
                if pending[tenant]!.count >= batchEvents {
                    flush(tenant, pending.removeValue(forKey: tenant)!)
                }
            } catch {
                report.rejected += 1
                if report.rejections.count < keepRejections { report.rejections.append((lineNumber, error)) }
            }
            if report.lines - lastProgress >= 50_000 {
                lastProgress = report.lines
                validator.now = Timestamp.now()  // the future-skew rule follows the clock on long ingests
                let offset = line.baseAddress.map { $0 - buffer.baseAddress! } ?? 0
                progress(offset, buffer.count, report.lines)
            }
        }
        for (tenant, events) in pending { flush(tenant, events) }
        let totals = tracker.wait()
        report.appended = totals.appended
        report.duplicates = totals.duplicates
        report.failure = totals.failure
        progress(buffer.count, buffer.count, report.lines)
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return report
    }
}

/// Counts outstanding appends and their outcomes; `wait` blocks until all are answered.
final class Tracker: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var outstanding = 0
    private var totals = Totals()

    struct Totals {
        var appended = 0
        var duplicates = 0
        var failure: LogError?
    }

    func begin() {
        condition.lock()
        outstanding += 1
        condition.unlock()
    }

    func finish(_ result: Result<[AppendOutcome], LogError>) {
        condition.lock()
        switch result {
        case .success(let outcomes):
            for o in outcomes { if o.isDuplicate { totals.duplicates += 1 } else { totals.appended += 1 } }
        case .failure(let e):
            if totals.failure == nil { totals.failure = e }
        }
        outstanding -= 1
        if outstanding == 0 { condition.broadcast() }
        condition.unlock()
    }

    func wait() -> Totals {
        condition.lock()
        while outstanding > 0 { condition.wait() }
        defer { condition.unlock() }
        return totals
    }
}
