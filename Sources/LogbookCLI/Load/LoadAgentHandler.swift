import Histogram
import NIOCore
import NIOHTTP1

/// What one agent saw: counts, errors and its latency histogram (microseconds).
struct AgentResult: Sendable {
    var latency = Histogram<UInt64>(
        highestTrackableValue: AgentResult.maxLatencyMicros, numberOfSignificantValueDigits: .three)
    var requests = 0
    var appended = 0
    var duplicates = 0
    var rejected = 0
    /// Failed requests by HTTP status ("429") or by kind ("connection_closed", "unreadable_response").
    var errors: [String: Int] = [:]
    var lastResponse: NIODeadline?

    /// Latencies above this are recorded as this (a request that slow is a failure anyway).
    static let maxLatencyMicros: UInt64 = 600_000_000
}

/// Tells every agent when to start, so that all connections are open before the clock runs.
struct StartSignal: Sendable {
    var at: NIODeadline
    var stopAt: NIODeadline?
}

/// One simulated agent on one keep-alive HTTP/1.1 connection: sends its requests one at a time (send,
/// await the response, send the next) and records each acknowledgement's latency.
///
/// It runs entirely on its channel's event loop, without tasks or locks, so that the load generator spends
/// little CPU per request on a machine it shares with the server. Responses are read only as far as needed:
/// the status line, and the summary counts at the end of a 200/422 body.
final class LoadAgentHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let plan: AgentPlan
    private let done: EventLoopPromise<AgentResult>
    private var result = AgentResult()
    private var next = 0
    private var start = NIODeadline.uptimeNanoseconds(0)
    private var stopAt: NIODeadline?
    /// When the request in flight counts from: its intended send time with a rate, its send time without.
    private var latencyFrom = NIODeadline.uptimeNanoseconds(0)
    private var inFlight: PreparedRequest?
    private var status: UInt = 0
    private var body: ByteBuffer?
    private var finished = false

    init(plan: AgentPlan, done: EventLoopPromise<AgentResult>) {
        self.plan = plan
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let signal = event as? StartSignal else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        start = signal.at
        stopAt = signal.stopAt
        sendNext(context: context)
    }

    /// Sends the next request now, or schedules it for its intended time; finishes when none is left.
    private func sendNext(context: ChannelHandlerContext) {
        guard next < plan.requests.count else { return finish(context: context) }
        let now = NIODeadline.now()
        if let stopAt, now >= stopAt { return finish(context: context) }
        let intended = start + .nanoseconds(plan.sendAt?[next] ?? 0)
        if intended > now {
            context.eventLoop.assumeIsolated().scheduleTask(deadline: intended) { self.sendNext(context: context) }
            return
        }
        let request = plan.requests[next]
        next += 1
        latencyFrom = plan.sendAt == nil ? now : intended
        inFlight = request
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status.code
            body = nil
        case .body(var part):
            // Usually one part; only a response split across reads is copied.
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            responded(context: context)
        }
    }

    private func responded(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        guard let request = inFlight else { return }
        inFlight = nil
        result.requests += 1
        result.lastResponse = now
        let micros = UInt64(max(0, (now - latencyFrom).nanoseconds / 1000))
        _ = result.latency.record(min(micros, AgentResult.maxLatencyMicros))
        switch status {
        case 200, 422:
            if let counts = body.flatMap(Self.summary) {
                result.appended += counts.appended
                result.duplicates += counts.duplicates
                result.rejected += counts.rejected
                if status == 422 { result.errors["422", default: 0] += 1 }
            } else {
                result.errors["unreadable_response", default: 0] += 1
                result.rejected += request.events
            }
        default:
            // 401, 413, 429, 503…: the whole request was refused; it is counted, not resent.
            result.errors[String(status), default: 0] += 1
        }
        body = nil
        sendNext(context: context)
    }

    private func finish(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.succeed(result)
        context.close(promise: nil)
    }

    /// The connection ended before the agent was done: counted once, and the agent stops (its remaining
    /// requests are not sent).
    private func lost(_ kind: String) {
        guard !finished else { return }
        finished = true
        result.errors[kind, default: 0] += 1
        done.succeed(result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        lost("connection_closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        lost("connection_error")
        context.close(promise: nil)
    }

    /// The `"appended":N,"duplicates":N,"rejected":N` that end an ingest response, read from the body's last
    /// bytes: the per-event results before them are not parsed.
    static func summary(_ body: ByteBuffer) -> (appended: Int, duplicates: Int, rejected: Int)? {
        body.withUnsafeReadableBytes { bytes -> (Int, Int, Int)? in
            let tail = bytes.count > 128 ? UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - 128)...]) : bytes
            guard let a = count(appendedKey, in: tail), let d = count(duplicatesKey, in: tail),
                let r = count(rejectedKey, in: tail)
            else { return nil }
            return (a, d, r)
        }
    }

    private static let appendedKey = Array(#""appended":"#.utf8)
    private static let duplicatesKey = Array(#""duplicates":"#.utf8)
    private static let rejectedKey = Array(#""rejected":"#.utf8)

    /// The integer after the last occurrence of `key` in `bytes`.
    private static func count(_ key: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        var i = bytes.count - key.count
        while i >= 0 {
            if bytes[i] == key[0] && key.indices.allSatisfy({ bytes[i + $0] == key[$0] }) {
                var j = i + key.count
                var n = 0
                var digits = 0
                while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 {
                    n = n * 10 + Int(bytes[j] - 0x30)
                    j += 1
                    digits += 1
                }
                return digits > 0 ? n : nil
            }
            i -= 1
        }
        return nil
    }
}
