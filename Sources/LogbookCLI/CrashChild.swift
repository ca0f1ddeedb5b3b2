import ArgumentParser
import Foundation
import LogbookCore

/// Used by the crash tests: appends random events to a few tenants from several tasks at once
/// and prints `ack TENANT SEQ ID` for each event once its append has returned (is durable).
/// The test SIGKILLs this process at a random moment and checks the store afterwards.
struct CrashChild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crash-child", shouldDisplay: false)

    @OptionGroup var store: StoreOptions
    @Option var tenants: Int = 3
    @Option var writers: Int = 6
    @Option var batch: Int = 20

    func run() async throws {
        var options = LogStore.Options()
        options.dictionaryTrainingEvents = 300
        let logStore = try store.openStore(options: options)
        let lock = NSLock()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<writers {
                group.addTask {
                    var rng = SystemRandomNumberGenerator()
                    while true {
                        let tenant = TenantID("crash\(Int(rng.next() % UInt64(tenants)))")!
                        let user = UUID128(high: 0x1111_0000_0000_4000 | (rng.next() % 4), low: 0x8000_0000_0000_0000)
                        let events = (0..<Int(1 + rng.next() % UInt64(batch))).map { _ in
                            Event(
                                id: .random(using: &rng), type: .activityWindow, subject: user,
                                occurredAt: Timestamp.now(), duration: Int64(rng.next() % 60_000_000),
                                data: [
                                    Field(.app, .string("Code")),
                                    Field(.title, .string("crash test \(rng.next() % 50)")),
                                ])
                        }
                        let outcomes = try await logStore.append(events, to: tenant)
                        var out = ""
                        for (e, o) in zip(events, outcomes) { out += "ack \(tenant) \(o.sequence!) \(e.id)\n" }
                        lock.withLock {
                            FileHandle.standardOutput.write(Data(out.utf8))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
