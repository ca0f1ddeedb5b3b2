import Foundation
import LogbookJSON
import NIOCore
import NIOHTTP1

/// One request an agent sends: the head (with its tenant's token) and the NDJSON body, both built once
/// before the run so that sending costs no encoding.
struct PreparedRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var events: Int
}

/// What one agent sends, in order, on its own connection.
struct AgentPlan: Sendable {
    var requests: [PreparedRequest] = []
    /// With a target rate: when each request is meant to be sent, in nanoseconds after the start.
    /// Latency is measured from this time, not from the actual send, so that a slow response that
    /// delays the next request still counts against the server (no coordinated omission).
    var sendAt: [Int64]?

    var events: Int { requests.reduce(0) { $0 + $1.events } }
}

/// The workload file, read once into memory, its lines grouped by tenant in file order.
struct LoadWorkload {
    /// One line of the file: where it is, and where its tenant's name is inside it.
    struct Line {
        var range: Range<Int>
        var tenantValue: Range<Int>
        var tenant: Int
    }

    /// The file's bytes, mapped.
    let bytes: Data
    /// Tenant names (after `split`), in order of first appearance.
    private(set) var tenants: [String] = []
    /// Line indexes of each tenant, in file order.
    private(set) var linesByTenant: [[Int]] = []
    private(set) var lines: [Line] = []

    /// Reads `path`, keeping at most `limit` non-blank lines.
    ///
    /// - Parameter split: when above 1, every tenant `t` becomes `t-0` … `t-(split-1)`, each event going to one
    ///   of them by a hash of its id, and the lines are rewritten with the new name. It only serves to measure
    ///   many tenants with the standard workload (which has 100); the events are otherwise unchanged.
    init(path: String, limit: Int?, split: Int) throws {
        // Mapped, not read: only the pages of the lines used are loaded (--events), and the file is not
        // copied again before the request bodies are built from it.
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CLIError("cannot read \(path)")
        }
        let bytes = self.bytes
        var index: [String: Int] = [:]
        var start = 0
        var lineNumber = 0
        let limit = limit ?? Int.max
        try bytes.withUnsafeBytes { raw in
            let buffer = raw.bindMemory(to: UInt8.self)
            while start < buffer.count && lines.count < limit {
                var end = start
                while end < buffer.count && buffer[end] != 0x0A { end += 1 }
                lineNumber += 1
                defer { start = end + 1 }
                var trimmed = end
                while trimmed > start && (buffer[trimmed - 1] == 0x0D || buffer[trimmed - 1] == 0x20) { trimmed -= 1 }
                guard trimmed > start else { continue }
                guard let value = Self.stringValue(of: Self.tenantKey, in: buffer, start..<trimmed) else {
                    throw CLIError("\(path) line \(lineNumber) has no \"tenant\" (every line must name its tenant)")
                }
                var name = String(decoding: buffer[value], as: UTF8.self)
                if split > 1 {
                    // By event id, not by user: the smallest workload tenants have 3 users, too few to fill
                    // ten parts, and events are independent of each other here.
                    let id = Self.stringValue(of: Self.idKey, in: buffer, start..<trimmed) ?? value
                    name += "-\(Self.fnv1a(buffer[id]) % UInt64(split))"
                }
                let tenant: Int
                if let t = index[name] {
                    tenant = t
                } else {
                    tenant = tenants.count
                    index[name] = tenant
                    tenants.append(name)
                    linesByTenant.append([])
                }
                linesByTenant[tenant].append(lines.count)
                lines.append(Line(range: start..<trimmed, tenantValue: value, tenant: tenant))
            }
        }
    }

    private static let tenantKey = Array(#""tenant":""#.utf8)
    private static let idKey = Array(#""id":""#.utf8)

    /// The bytes of a top-level string member's value, found by a plain scan for `"key":"`.
    ///
    /// A quote inside a JSON string is escaped, so the pattern cannot match inside a value; the v1 envelope
    /// puts `id` and `tenant` before `data`, so the first match is the envelope's.
    private static func stringValue(
        of key: [UInt8], in buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>
    ) -> Range<Int>? {
        var i = range.lowerBound
        let last = range.upperBound - key.count
        while i <= last {
            if buffer[i] == key[0] {
                var j = 1
                while j < key.count && buffer[i + j] == key[j] { j += 1 }
                if j == key.count {
                    let valueStart = i + key.count
                    var valueEnd = valueStart
                    while valueEnd < range.upperBound && buffer[valueEnd] != 0x22 { valueEnd += 1 }
                    return valueEnd < range.upperBound ? valueStart..<valueEnd : nil
                }
            }
            i += 1
        }
        return nil
    }

    private static func fnv1a(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Cuts each tenant's lines into requests of `batch` events and deals them to `agents` agents.
    ///
    /// Each agent serves one tenant when there are at least as many agents as tenants (a tenant gets agents
    /// in proportion to its events, at least one); with fewer agents, each serves several tenants. An agent's
    /// requests keep the file's order, so every tenant's events arrive roughly in time order.
    ///
    /// - Parameter rate: target events per second over all agents, or nil for as fast as the server answers.
    func plans(
        agents: Int, batch: Int, rate: Double?, tokens: [String: String], host: String, path: String
    ) throws -> [AgentPlan] {
        // Agent slots per tenant: largest remainder over the tenants' shares, at least one each.
        let total = lines.count
        var slots = [Int](repeating: 1, count: tenants.count)
        if agents > tenants.count && total > 0 {
            let spare = agents - tenants.count
            let shares = linesByTenant.map { Double($0.count) / Double(total) * Double(spare) }
            for t in slots.indices { slots[t] += Int(shares[t]) }
            let order = slots.indices.sorted {
                shares[$0] - shares[$0].rounded(.down) > shares[$1] - shares[$1].rounded(.down)
            }
            var left = agents - slots.reduce(0, +)
            for t in order where left > 0 {
                slots[t] += 1
                left -= 1
            }
        }
        // Requests, each tagged with the agent that sends it and its first line's position in the file.
        var assigned: [[(first: Int, request: PreparedRequest)]] = Array(repeating: [], count: max(1, agents))
        var nextAgent = 0
        let allocator = ByteBufferAllocator()
        for (t, name) in tenants.enumerated() {
            guard let token = tokens[name] else {
                throw CLIError("no agent token for tenant \(name) in the tokens file (logbook tenants create \(name))")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: host)
            headers.add(name: "Authorization", value: "Bearer " + token)
            headers.add(name: "Content-Type", value: "application/x-ndjson")
            let firstAgent = nextAgent
            nextAgent += slots[t]
            let tenantLines = linesByTenant[t]
            var chunk = 0
            for from in stride(from: 0, to: tenantLines.count, by: batch) {
                let indexes = tenantLines[from..<min(from + batch, tenantLines.count)]
                let body = self.body(indexes, tenant: name, allocator: allocator)
                var h = headers
                h.add(name: "Content-Length", value: String(body.readableBytes))
                let request = PreparedRequest(
                    head: HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: h), body: body,
                    events: indexes.count)
                let agent = (firstAgent + chunk % slots[t]) % assigned.count
                assigned[agent].append((tenantLines[from], request))
                chunk += 1
            }
        }
        return assigned.enumerated().map { a, list in
            let requests = list.sorted { $0.first < $1.first }.map(\.request)
            var plan = AgentPlan(requests: requests)
            if let rate, total > 0 {
                // This agent's share of the rate. Each request goes out at a fraction of its own slot, the
                // fraction set by the agent's index so that the agents do not all send at the same instant,
                // and the last slot ends with the run, whatever the batch sizes.
                let nanosPerEvent = 1e9 * Double(total) / (rate * Double(max(plan.events, 1)))
                let fraction = Double(a) / Double(assigned.count)
                var before = 0
                plan.sendAt = requests.map { r in
                    defer { before += r.events }
                    return Int64((Double(before) + fraction * Double(r.events)) * nanosPerEvent)
                }
            }
            return plan
        }
    }

    /// The NDJSON body of some lines of one tenant, each ending in a newline, with the tenant's name as given.
    private func body(_ indexes: ArraySlice<Int>, tenant: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let capacity = indexes.reduce(0) { $0 + lines[$1].range.count + tenant.utf8.count + 1 }
        var buffer = allocator.buffer(capacity: capacity)
        bytes.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: UInt8.self)
            for i in indexes {
                let line = lines[i]
                buffer.writeBytes(
                    UnsafeBufferPointer(rebasing: all[line.range.lowerBound..<line.tenantValue.lowerBound]))
                buffer.writeString(tenant)
                buffer.writeBytes(
                    UnsafeBufferPointer(rebasing: all[line.tenantValue.upperBound..<line.range.upperBound]))
                buffer.writeInteger(UInt8(0x0A))
            }
        }
        return buffer
    }

    /// Tenant → agent token, from NDJSON lines such as `logbook tenants create` prints
    /// (`{"tenant":…,"agent_token":…}`); a line with `token` instead (from `logbook tokens issue`) works too.
    static func readTokens(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        var tokens: [String: String] = [:]
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            // The error names the line only: its content holds a token.
            guard let object = try? JSONParser.parseObject(Array(text.utf8)),
                case .string(let tenant) = object["tenant"],
                case .string(let token) = object["agent_token"] ?? object["token"]
            else { throw CLIError("\(path) line \(n + 1) is not {\"tenant\":…,\"agent_token\":…}") }
            tokens[tenant] = token
        }
        return tokens
    }
}
