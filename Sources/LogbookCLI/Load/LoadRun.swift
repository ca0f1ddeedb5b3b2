import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix

/// Where to send: `http://HOST[:PORT][/PREFIX]`.
struct LoadTarget: Sendable {
    var host: String
    var port: Int
    /// The ingest route's path, with any prefix of the URL.
    var path: String
    /// The `Host` header's value.
    var authority: String

    init(url: String) throws {
        guard let u = URLComponents(string: url), u.scheme == "http", let host = u.host, !host.isEmpty else {
            throw CLIError("--url must be http://HOST[:PORT] (TLS is not supported by the load generator)")
        }
        self.host = host
        port = u.port ?? 80
        let prefix = u.path.hasSuffix("/") ? String(u.path.dropLast()) : u.path
        path = prefix + "/v1/events"
        authority = u.port.map { "\(host):\($0)" } ?? host
    }
}

/// Everything the agents saw, merged.
struct LoadSummary: Sendable {
    var total = AgentResult()
    var seconds = 0.0

    var acknowledged: Int { total.appended + total.duplicates }
    var eventsPerSecond: Double { seconds > 0 ? Double(acknowledged) / seconds : 0 }
    var requestsPerSecond: Double { seconds > 0 ? Double(total.requests) / seconds : 0 }

    /// The latency at `percentile` (0–100) in milliseconds.
    func millis(_ percentile: Double) -> Double {
        total.latency.totalCount == 0 ? 0 : Double(total.latency.valueAtPercentile(percentile)) / 1000
    }
    var maxMillis: Double { total.latency.totalCount == 0 ? 0 : Double(total.latency.max) / 1000 }
}

/// Opens one connection per agent, starts them together, and waits until every agent is done.
///
/// - Parameter duration: stop sending new requests this many seconds after the start.
func runLoad(plans: [AgentPlan], target: LoadTarget, threads: Int, duration: Double?) async throws -> LoadSummary {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    do {
        var channels: [any Channel] = []
        var results: [EventLoopFuture<AgentResult>] = []
        for plan in plans where !plan.requests.isEmpty {
            let loop = group.next()
            let done = loop.makePromise(of: AgentResult.self)
            let bootstrap = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(LoadAgentHandler(plan: plan, done: done))
                    }
                }
            do {
                channels.append(try await bootstrap.connect(host: target.host, port: target.port).get())
            } catch {
                done.fail(error)
                throw CLIError("cannot connect to \(target.authority): \(error)")
            }
            results.append(done.futureResult)
        }
        // All connections are open: start the clock for everyone at once.
        let start = NIODeadline.now() + .milliseconds(20)
        let stopAt = duration.map { start + .nanoseconds(Int64($0 * 1e9)) }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(StartSignal(at: start, stopAt: stopAt))
        }
        var summary = LoadSummary()
        var last = start
        for future in results {
            let r = try await future.get()
            summary.total.latency.add(r.latency)
            summary.total.requests += r.requests
            summary.total.appended += r.appended
            summary.total.duplicates += r.duplicates
            summary.total.rejected += r.rejected
            summary.total.errors.merge(r.errors, uniquingKeysWith: +)
            if let l = r.lastResponse, l > last { last = l }
        }
        summary.seconds = Double((last - start).nanoseconds) / 1e9
        try await group.shutdownGracefully()
        return summary
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}
