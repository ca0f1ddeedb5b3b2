import LogbookCore
import NIOPosix

/// Runs synchronous store work — LMDB reads, scans, replays — on NIO's blocking thread pool.
///
/// Route handlers run on Swift's cooperative pool, one thread per core: a read that blocks
/// one of those threads holds up every request behind it, ingest included.
///
/// - Throws: `Problem` 503 `shutting_down` when the pool no longer takes work; the body's own
///   `LogError` comes back in the result, for the route to answer as it sees fit.
func offload<R: Sendable>(
    _ body: @escaping @Sendable () throws(LogError) -> R
) async throws -> Result<R, LogError> {
    do {
        return try await NIOThreadPool.singleton.runIfActive { () -> Result<R, LogError> in
            do throws(LogError) { return .success(try body()) } catch { return .failure(error) }
        }
    } catch {
        throw Problem(.serviceUnavailable, type: "shutting_down", detail: "the server is shutting down")
    }
}
