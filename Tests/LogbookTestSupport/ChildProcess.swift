public import Foundation

/// A child process's exit, seen through its `terminationHandler`.
///
/// Tests never call `Process.waitUntilExit`: off the main thread it spins a run loop and relies
/// on Foundation to notice the exit there, and under a parallel test run that can miss it and
/// hold the thread for good — with two cores, half of the test pool. The handler is set before
/// `run`, so even an immediate exit is seen, and every wait has a limit: past it the child is
/// killed and the wait throws, so a stuck child fails its own test instead of hanging the run.
public final class ChildExit: @unchecked Sendable {
    // @unchecked: `exited` is guarded by `condition`; `pid` and `name` are set before the
    // child runs and never change.
    private let condition = NSCondition()
    private var exited = false
    private var pid: pid_t = 0
    private let name: String

    fileprivate init(_ process: Process) {
        name = process.executableURL?.lastPathComponent ?? "child"
        process.terminationHandler = { [self] _ in
            condition.withLock {
                exited = true
                condition.broadcast()
            }
        }
    }

    public var hasExited: Bool { condition.withLock { exited } }

    /// Blocks until the child has exited; after `limit`, kills it and throws.
    public func blockingWait(limit: Duration = .seconds(300)) throws {
        let deadline = Date(timeIntervalSinceNow: limit.seconds)
        let done = condition.withLock {
            while !exited { if !condition.wait(until: deadline) { break } }
            return exited
        }
        if !done { try killAfterLimit(limit) }
    }

    /// Waits without holding a thread until the child has exited; after `limit`, kills it and throws.
    public func wait(limit: Duration = .seconds(300)) async throws {
        let deadline = ContinuousClock.now + limit
        while !hasExited {
            if ContinuousClock.now >= deadline { try killAfterLimit(limit) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    private func killAfterLimit(_ limit: Duration) throws -> Never {
        kill(pid, SIGKILL)
        throw ChildTimedOut(description: "\(name) was still running after \(limit); killed")
    }

    fileprivate func started(_ process: Process) { pid = process.processIdentifier }
}

/// A child that outlasted its test's limit.
public struct ChildTimedOut: Error, CustomStringConvertible {
    public let description: String
}

extension Process {
    /// Runs the process with its exit watched; wait through the result, not `waitUntilExit`.
    public func start() throws -> ChildExit {
        let exit = ChildExit(self)
        try run()
        exit.started(self)
        return exit
    }
}

/// What a child run to its end left: its exit status and what it wrote.
public struct ChildResult: Sendable {
    public var status: Int32
    public var reason: Process.TerminationReason
    public var stdout: Data
    public var stderr: Data
}

/// Runs `executable` to its end with `input` on its stdin, reading its stdout and stderr
/// beside it (a child blocked on a full pipe would never exit); kills it after `limit`.
public func runChild(
    _ executable: String, _ arguments: [String], input: Data? = nil, limit: Duration = .seconds(300)
) throws -> ChildResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), stdin = input.map { _ in Pipe() }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin ?? FileHandle.nullDevice
    let exit = try process.start()
    let readers = DispatchGroup()
    let collected = Collected()
    DispatchQueue.global().async(group: readers) { collected.out = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: readers) { collected.err = err.fileHandleForReading.readDataToEndOfFile() }
    if let input, let stdin {
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
    }
    try exit.blockingWait(limit: limit)
    // The pipes close with the child; a limit all the same, should something have inherited them.
    guard readers.wait(timeout: .now() + 10) == .success else {
        throw ChildTimedOut(description: "the output of \(executable) stayed open after it exited")
    }
    return ChildResult(
        status: process.terminationStatus, reason: process.terminationReason, stdout: collected.out,
        stderr: collected.err)
}

/// The two readers' results; each written by one reader, read after both are done.
private final class Collected: @unchecked Sendable {
    var out = Data()
    var err = Data()
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
