import Foundation
import LogbookJSON
import Synchronization

/// Loads NDJSON files in the v1 wire envelope into a `LogStore`: each line names its tenant,
/// lines are validated, grouped per tenant into batches and appended in file order.
///
/// Memory is bounded: the file is read in chunks, at most `batchEvents` events wait per tenant
/// before they are submitted, and the store's queue bounds push back when commits are behind.
public struct NDJSONIngester: Sendable {
    public var store: LogStore
    /// Events per append (per tenant).
    public var batchEvents = 1000
    /// How many rejected lines to keep in the report (all are counted).
    public var keepRejections = 20
    /// Bytes read from the file at a time; a line longer than this is rejected.
    public var chunkBytes = 4 << 20
    /// Parts each chunk is parsed in, in parallel (default: one per core).
    public var parallelism = ProcessInfo.processInfo.activeProcessorCount

    public init(store: LogStore) { self.store = store }

    /// What an ingest did.
    public struct Report: Sendable {
        public var lines = 0
        public var appended = 0
        public var duplicates = 0
        public var rejected = 0
        /// Valid events the log refused (a deactivated user, a correction breaking its rules).
        public var refused = 0
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
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LogError(.invalidArgument, "cannot read \(path)")
        }
        defer { try? handle.close() }
        let total = Int((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        var session = Session(self)
        var carry: [UInt8] = []
        var read = 0
        var skipping = false  // inside a line that was too long: drop bytes up to its end
        while let chunk = try handle.read(upToCount: chunkBytes), !chunk.isEmpty {
            read += chunk.count
            if skipping {
                guard let end = chunk.firstIndex(of: UInt8(ascii: "\n")) else { continue }
                skipping = false
                carry.append(contentsOf: chunk[(end + 1)...])
            } else {
                carry.append(contentsOf: chunk)
            }
            // Hand over complete lines; keep the unfinished last one for the next chunk.
            guard let lastNewline = carry.lastIndex(of: UInt8(ascii: "\n")) else {
                if carry.count > chunkBytes {
                    session.rejectOversizedLine()
                    carry.removeAll()
                    skipping = true
                }
                continue
            }
            carry.withUnsafeBytes { session.consume(UnsafeRawBufferPointer(rebasing: $0[...lastNewline])) }
            carry.removeSubrange(...lastNewline)
            progress(read, total, session.report.lines)
        }
        if !carry.isEmpty { carry.withUnsafeBytes { session.consume($0) } }
        return session.finish(progress: progress)
    }

    /// Ingests NDJSON from memory.
    public func ingest(buffer: UnsafeRawBufferPointer, progress: (Int, Int, Int) -> Void = { _, _, _ in }) -> Report {
        var session = Session(self)
        session.consume(buffer)
        return session.finish(progress: progress)
    }

    /// One line's outcome: an event (its index in the part's `EncodedEvents`, and the tenant
    /// its line named), an error, or neither for a blank line.
    struct ParsedLine {
        var lineNumber: Int
        /// The line's length: its event's size for the store's batch limits.
        var bytes = 0
        var event: Int?
        var tenant: TenantID?
        var error: ValidationError?
    }

    /// A part's lines and, in line order, the encoded form of its valid events.
    struct ParsedPart {
        var lines: [ParsedLine] = []
        var events = EncodedEvents()
    }

    /// Validates the lines of `part` into their events' encoded form, on this thread: what
    /// goes on to the batches and the commit is that encoding, in one buffer, and lines of the
    /// common shape never become `Event`s at all. (Moved on as objects, each event was freed by
    /// a commit thread that found it cold: a quarter of a file ingest's time.)
    static func parse(_ part: UnsafeRawBufferPointer, _ validator: EventValidator) -> ParsedPart {
        var out = ParsedPart()
        out.lines.reserveCapacity(part.count / 200)
        out.events.reserve(part.count / 250, bytes: part.count / 3)
        for (lineNumber, line) in NDJSONLines(part) {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                out.lines.append(ParsedLine(lineNumber: lineNumber))
                continue
            }
            do throws(ValidationError) {
                let tenant = try validator.validate(line: line, into: &out.events)
                out.lines.append(
                    ParsedLine(lineNumber: lineNumber, bytes: line.count, event: out.events.count - 1, tenant: tenant))
            } catch {
                out.lines.append(ParsedLine(lineNumber: lineNumber, error: error))
            }
        }
        return out
    }

    /// `buffer` cut into at most `n` parts, each ending with a line's newline (the last one
    /// ends where the buffer does).
    static func split(_ buffer: UnsafeRawBufferPointer, into n: Int) -> [UncheckedSendable<UnsafeRawBufferPointer>] {
        var parts: [UncheckedSendable<UnsafeRawBufferPointer>] = []
        var start = 0
        for k in 1..<max(1, n) {
            var cut = max(start, buffer.count * k / n)
            while cut < buffer.count && buffer[cut] != UInt8(ascii: "\n") { cut += 1 }
            if cut >= buffer.count { break }
            parts.append(UncheckedSendable(UnsafeRawBufferPointer(rebasing: buffer[start...cut])))
            start = cut + 1
        }
        if start < buffer.count || parts.isEmpty {
            parts.append(UncheckedSendable(UnsafeRawBufferPointer(rebasing: buffer[start...])))
        }
        return parts
    }

    /// One ingest's running state.
    struct Session {
        let ingester: NDJSONIngester
        let start = DispatchTime.now()
        var report = Report()
        let tracker = Tracker()
        /// Per-tenant batches being filled. A class, so that appending never copies the array
        /// (`dict[key, default: []].append` did, making each batch quadratic).
        final class Batch {
            var events = EncodedEvents()
            var bytes = 0
        }
        var pending: [TenantID: Batch] = [:]
        var validator = EventValidator(now: Timestamp.now())
        var lineOffset = 0

        init(_ ingester: NDJSONIngester) { self.ingester = ingester }

        mutating func consume(_ buffer: UnsafeRawBufferPointer) {
            report.bytes += buffer.count
            // Parsing and validating is most of the CPU of a file ingest and lines are
            // independent: the chunk is cut at line ends into one part per core, parsed in
            // parallel, and the results are then taken in line order (so each tenant's events
            // keep the file's order).
            let parts = NDJSONIngester.split(buffer, into: ingester.parallelism)
            let results = UnsafeMutableBufferPointer<ParsedPart>.allocate(capacity: parts.count)
            results.initialize(repeating: ParsedPart())
            defer { results.deinitialize().deallocate() }
            let shared = UncheckedSendable((parts, results, validator))
            DispatchQueue.concurrentPerform(iterations: parts.count) { i in
                let (parts, results, validator) = shared.value
                results[i] = NDJSONIngester.parse(parts[i].value, validator)  // each part its own slot
            }
            for k in results.indices {
                var lastLine = 0
                for line in results[k].lines {
                    lastLine = line.lineNumber
                    if let error = line.error {
                        report.lines += 1
                        reject(line: lineOffset + line.lineNumber, error)
                    } else if let event = line.event {
                        report.lines += 1
                        guard let tenant = line.tenant else {
                            reject(
                                line: lineOffset + line.lineNumber,
                                ValidationError(.missingField, field: "tenant", "is required when ingesting a file"))
                            continue
                        }
                        add(event, of: results[k].events, tenant, bytes: line.bytes)
                    }
                }
                lineOffset += lastLine
            }
            validator.now = Timestamp.now()  // the future-skew rule follows the clock on long ingests
        }

        private mutating func add(_ event: Int, of part: borrowing EncodedEvents, _ tenant: TenantID, bytes: Int) {
            let batch: Batch
            if let existing = pending[tenant] {
                batch = existing
            } else {
                batch = Batch()
                batch.events.reserve(ingester.batchEvents, bytes: 128 * ingester.batchEvents)
                pending[tenant] = batch
            }
            batch.events.append(event, of: part)
            batch.bytes += bytes
            if batch.events.count >= ingester.batchEvents {
                var full = EncodedEvents()
                full.reserve(ingester.batchEvents, bytes: 128 * ingester.batchEvents)
                swap(&full, &batch.events)
                flush(tenant, full, bytes: batch.bytes)
                batch.bytes = 0
            }
        }

        mutating func rejectOversizedLine() {
            report.lines += 1
            lineOffset += 1
            reject(line: lineOffset, ValidationError(.invalidJSON, field: "", "the line is longer than the chunk size"))
        }

        private mutating func reject(line: Int, _ error: ValidationError) {
            report.rejected += 1
            if report.rejections.count < ingester.keepRejections { report.rejections.append((line, error)) }
        }

        /// Submits one tenant's batch, waiting while the store pushes back.
        private func flush(_ tenant: TenantID, _ events: EncodedEvents, bytes: Int) {
            let tracker = self.tracker
            tracker.begin()
            while true {
                do {
                    try ingester.store.submit(events, to: tenant, approximateBytes: bytes) {
                        tracker.finish($0)
                    }
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

        mutating func finish(progress: (Int, Int, Int) -> Void) -> Report {
            for (tenant, batch) in pending where !batch.events.isEmpty {
                flush(tenant, batch.events, bytes: batch.bytes)
            }
            pending = [:]
            let totals = tracker.wait()
            report.appended = totals.appended
            report.duplicates = totals.duplicates
            report.refused = totals.refused
            report.failure = totals.failure
            progress(report.bytes, report.bytes, report.lines)
            report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            return report
        }
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
        var refused = 0
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
            for o in outcomes {
                switch o {
                case .appended: totals.appended += 1
                case .duplicate: totals.duplicates += 1
                case .refused: totals.refused += 1
                }
            }
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

/// A value handed to `concurrentPerform`'s workers, which use it without overlapping: each
/// worker reads the shared parts and writes only its own result slot.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
