import ArgumentParser
import Foundation
import LogbookCore
import Logging

@main
struct Logbook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbook",
        abstract: "An event-sourced, hash-chained, per-tenant event log.",
        subcommands: [
            Ingest.self, Replay.self, Stats.self, Verify.self, Projections.self, Query.self, Export.self, Demo.self,
            Serve.self, Load.self, Tenants.self, Tokens.self, CrashChild.self,
        ]
    )

    static func main() async {
        // Warnings only, except the server's one line per request (LOGBOOK_LOG_LEVEL overrides both).
        let level = ProcessInfo.processInfo.environment["LOGBOOK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level ?? (label == "logbook.server" ? .info : .warning)
            return handler
        }
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            // One clear line and a non-zero exit; never a stack trace.
            exit(withError: error)
        }
    }
}

/// Options every command takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory.")
    var data: String = "./data"

    /// Opens the store; commands that only read pass `create: false` and get an error, not a new
    /// empty directory, when DIR does not exist.
    func openStore(options: LogStore.Options = LogStore.Options(), create: Bool = true) throws -> LogStore {
        if !create && !FileManager.default.fileExists(atPath: data + "/tenants") {
            throw CLIError("no Logbook data in \(data) (use --data DIR)")
        }
        return try LogStore(directory: data, options: options, logger: Logger(label: "logbook"))
    }
}

/// A failure worth one line on stderr and exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func parseTenant(_ s: String) throws -> TenantID {
    guard let t = TenantID(s) else { throw CLIError("invalid tenant name (use 1-64 characters of a-z, 0-9, '_', '-')") }
    return t
}

func tenantsToUse(_ store: LogStore, _ name: String?) throws -> [TenantID] {
    if let name {
        let t = try parseTenant(name)
        guard store.tenants().contains(t) else { throw CLIError("tenant \(t) does not exist in \(store.directory)") }
        return [t]
    }
    return store.tenants()
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
struct ProgressBar {
    var label: String
    var last = DispatchTime.now()
    let start = DispatchTime.now()
    let enabled = isatty(2) != 0

    init(_ label: String) { self.label = label }

    mutating func update(done: Int, total: Int, items: Int, unit: String, force: Bool = false) {
        let now = DispatchTime.now()
        guard force || now.uptimeNanoseconds - last.uptimeNanoseconds > 100_000_000 else { return }
        last = now
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let secs = Double(now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let rate = secs > 0 ? Double(items) / secs : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(
            format: "%@ [%@] %3.0f%% %@ %@ %@/s", label, bar, fraction * 100, fmt(items), unit, fmt(Int(rate)))
        if enabled {
            FileHandle.standardError.write(Data(("\r" + line).utf8))
        } else if force {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}

func fmt(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}

/// Prints a line and flushes, so that output interleaves correctly with the progress bar
/// on stderr when stdout is a pipe.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
