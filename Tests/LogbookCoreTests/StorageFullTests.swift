import Foundation
import Testing
@testable import LogbookCore
import LogbookTestSupport

@Suite("A full environment")
struct StorageFullTests {
    let tenant = TenantID("small")!

    @Test("a commit that does not fit the map fails with storageFull, writes nothing, and the log stays intact")
    func mapFull() async throws {
        let dir = TemporaryDirectory()
        var options = testOptions()
        options.mapSize = 256 << 10  // 64 pages: a real MDB_MAP_FULL after a few blocks
        var g = SeededGenerator(seed: 12)
        var stored = 0
        var failure: LogError?
        do {
            let store = try LogStore(directory: dir.path, options: options)
            for _ in 0..<200 {
                let batch = (0..<100).map { _ in EventFactory.window(&g, title: "t \(g.next())") }
                do throws(LogError) {
                    _ = try await store.append(batch, to: tenant)
                    stored += batch.count
                } catch {
                    failure = error
                    break
                }
            }
            #expect(failure?.code == .storageFull)
            #expect(try store.lastSequence(tenant) == UInt64(stored))
            var count = 0
            try store.read(tenant) { _ in
                count += 1; return true
            }
            #expect(count == stored)
            #expect(try store.verify(tenant).ok)
            store.close()
        }
        #expect(stored > 0)
        // A larger map on reopen lets appends continue where they stopped.
        options.mapSize = 16 << 20
        let store = try LogStore(directory: dir.path, options: options)
        defer { store.close() }
        let more = try await store.append([EventFactory.window(&g)], to: tenant)
        #expect(more == [.appended(sequence: UInt64(stored + 1))])
        #expect(try store.verify(tenant).ok)
    }
}
