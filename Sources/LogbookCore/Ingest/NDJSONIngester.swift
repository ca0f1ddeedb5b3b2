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
    /// Bytes read from the file at a time. A line is held with what remains of the chunk
    /// before it: one longer than this may be rejected, and one longer than twice this is.
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
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LogError(.invalidArgument, "cannot read \(path)") }
        defer { close(fd) }
        let total = Int((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        var session = Session(self)
        // The file is read straight into this buffer, a chunk at a time behind the unfinished
        // line the last chunk ended with (shorter than a chunk, or it is rejected): no copy
        // of the file's bytes but the kernel's.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var carried = 0  // bytes of an unfinished line at the start of `buffer`
        var read = 0
        var skipping = false  // inside a line that was too long: drop bytes up to its end
        while true {
            let n = try readChunk(
                fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[carried..<carried + chunkBytes]))
            if n == 0 { break }
            read += n
            var start = 0
            let end = carried + n
            if skipping {
                guard let newline = buffer[carried..<end].firstIndex(of: UInt8(ascii: "\n")) else { continue }
                skipping = false
                start = newline + 1
            }
            // Hand over complete lines; keep the unfinished last one for the next chunk.
            guard let lastNewline = buffer[start..<end].lastIndex(of: UInt8(ascii: "\n")) else {
                if end - start > chunkBytes {
                    session.rejectOversizedLine()
                    carried = 0
                    skipping = true
                } else {
                    moveToFront(buffer, start..<end)
                    carried = end - start
                }
                continue
            }
            session.consume(UnsafeRawBufferPointer(rebasing: buffer[start...lastNewline]))
            start = lastNewline + 1
            moveToFront(buffer, start..<end)
            carried = end - start
            progress(read, total, session.report.lines)
        }
        if carried > 0 { session.consume(UnsafeRawBufferPointer(rebasing: buffer[..<carried])) }
        return session.finish(progress: progress)
    }

    /// Reads up to `buffer.count` bytes, fewer only at the end of the file.
    private func readChunk(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var got = 0
        while got < buffer.count {
            let n = Foundation.read(fd, buffer.baseAddress! + got, buffer.count - got)
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw LogError(.io, "reading the file failed (errno \(errno))")
            }
            got += n
        }
        return got
    }

    private func moveToFront(_ buffer: UnsafeMutableRawBufferPointer, _ range: Range<Int>) {
        guard range.lowerBound > 0, !range.isEmpty else { return }
        buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + range.lowerBound, byteCount: range.count)
    }

    /// Ingests NDJSON from memory.
    public func ingest(buffer: UnsafeRawBufferPointer, progress: (Int, Int, Int) -> Void = { _, _, _ in }) -> Report {
        var session = Session(self)
        session.consume(buffer)
        return session.finish(progress: progress)
    }

    /// A part's lines, parsed: their count, the rejected ones in line order, and the valid
    /// events grouped by tenant, each group in line order.
    struct ParsedPart {
        /// Lines that were not blank.
        var lines = 0
        /// The number of the part's last line, blank or not.
        var lastLine = 0
        var rejected: [(line: Int, error: ValidationError)] = []
        var groups: [TenantGroup] = []
    }

    /// One tenant's events of a part, and each one's line length (its size for the store's
    /// batch limits).
    struct TenantGroup {
        var tenant: TenantID
        var events: EncodedEvents
        var lineBytes: [Int]
    }

    /// Validates the lines of `part` into their events' encoded form and groups them by
    /// tenant, on this thread: what goes on to the batches and the commit is that encoding,
    /// and lines of the common shape never become `Event`s at all. (Moved on as objects, each
    /// event was freed by a commit thread that found it cold: a quarter of a file ingest's
    /// time.) Grouped here, in parallel, the events reach a tenant's batch a group at a time
    /// instead of one by one on the thread that takes the parts in order.
    static func parse(_ part: UnsafeRawBufferPointer, _ validator: EventValidator) -> ParsedPart {
        var out = ParsedPart()
        var events = EncodedEvents()
        events.reserve(part.count / 250, bytes: part.count / 3)
        var group: [Int] = []  // per event: its tenant's index in `tenants.names`
        var lineBytes: [Int] = []
        group.reserveCapacity(part.count / 250)
        lineBytes.reserveCapacity(part.count / 250)
        var tenants = TenantNames()
        for (lineNumber, line) in NDJSONLines(part) {
            out.lastLine = lineNumber
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            out.lines += 1
            do throws(ValidationError) {
                guard let t = try validator.validate(line: line, into: &events, tenants: &tenants) else {
                    events.removeLast()
                    out.rejected.append(
                        (
                            lineNumber,
                            ValidationError(.missingField, field: "tenant", "is required when ingesting a file")
                        ))
                    continue
                }
                group.append(t)
                lineBytes.append(line.count)
            } catch {
                out.rejected.append((lineNumber, error))
            }
        }
        let names = tenants.names
        let split = events.partitioned(by: group, into: names.count)
        var bytes = names.map { _ in [Int]() }
        for (i, t) in group.enumerated() { bytes[t].append(lineBytes[i]) }
        out.groups = names.indices.map { TenantGroup(tenant: names[$0], events: split[$0], lineBytes: bytes[$0]) }
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
                report.lines += results[k].lines
                for (line, error) in results[k].rejected { reject(line: lineOffset + line, error) }
                for group in results[k].groups { add(group) }
                lineOffset += results[k].lastLine
            }
            validator.now = Timestamp.now()  // the future-skew rule follows the clock on long ingests
        }

        /// Adds a part's events of one tenant to the tenant's batch, submitting each batch
        /// that fills up.
        private mutating func add(_ group: TenantGroup) {
            let batch: Batch
            if let existing = pending[group.tenant] {
                batch = existing
            } else {
                batch = Batch()
                batch.events.reserve(ingester.batchEvents, bytes: 128 * ingester.batchEvents)
                pending[group.tenant] = batch
            }
            var from = 0
            while from < group.events.count {
                let to = min(group.events.count, from + ingester.batchEvents - batch.events.count)
                batch.events.append(contentsOf: group.events, from..<to)
                batch.bytes += group.lineBytes[from..<to].reduce(0, +)
                from = to
                if batch.events.count >= ingester.batchEvents {
                    var full = EncodedEvents()
                    full.reserve(ingester.batchEvents, bytes: 128 * ingester.batchEvents)
                    swap(&full, &batch.events)
                    flush(group.tenant, full, bytes: batch.bytes)
                    batch.bytes = 0
                }
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
