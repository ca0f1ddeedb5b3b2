import Foundation
import Testing
@testable import LogbookCore
import LogbookLMDB
import LogbookTestSupport

@Suite("Tamper detection")
struct TamperTests {
    let tenant = TenantID("audit")!

    /// Writes 5 blocks of 100 events and returns the stored bytes of the block starting at `first`.
    func prepare(
        _ dir: TemporaryDirectory, block first: UInt64, format: UInt8 = BlockHeader.formatVersion
    )
        async throws -> [UInt8]
    {
        var options = testOptions()
        options.blockFormatVersion = format
        let store = try LogStore(directory: dir.path, options: options)
        var g = SeededGenerator(seed: 11)
        for _ in 0..<5 { _ = try await store.append((0..<100).map { _ in EventFactory.window(&g) }, to: tenant) }
        #expect(try store.verify(tenant).ok)
        let log = try store.acquire(tenant, create: false)
        defer { store.release(tenant) }
        let bytes = try log.env.read { txn in
            try TenantLog.blockKey(first).withUnsafeBytes { k in try txn.get(log.log, key: k) { Array($0!) } }
        }
        store.close()
        return bytes
    }

    /// Flips one byte of `block` where it lies in the data file, as an attacker with disk access would.
    func flip(_ dir: TemporaryDirectory, block: [UInt8], at offset: Int) throws {
        let path = dir.path + "/tenants/audit/data.mdb"
        var file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let position = try #require(find(block, in: file))
        file[position + offset] ^= 0x5A
        try Data(file).write(to: URL(fileURLWithPath: path))
    }

    func deleteBlock(_ first: UInt64, in path: String) throws {
        let env = try Environment(path: path)
        let db = try env.openDatabase("log")
        try env.write { (txn: inout WriteTransaction) throws in
            try TenantLog.blockKey(first).withUnsafeBytes { k in _ = try txn.delete(db, key: k) }
        }
    }

    func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        let limit = haystack.count - needle.count
        var i = 0
        while i <= limit {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    @Test("a flipped byte in a block's body makes verify fail and name that block", arguments: [0.3, 0.6, 0.95])
    func bodyFlip(position: Double) async throws {
        let dir = TemporaryDirectory()
        let block = try await prepare(dir, block: 201)
        let offset = BlockHeader.size + Int(Double(block.count - BlockHeader.size - 1) * position)
        try flip(dir, block: block, at: offset)
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        let report = try store.verify(tenant)
        #expect(report.failure?.blockFirstSequence == 201)
        #expect(report.blocks == 2, "the two blocks before it verified")
    }

    @Test(
        "a flipped byte in a block's id column, which is outside zstd's checksum, fails its Merkle root (both tree formats)",
        arguments: [UInt8(1), 2])
    func idFlip(format: UInt8) async throws {
        let dir = TemporaryDirectory()
        let block = try await prepare(dir, block: 201, format: format)
        try flip(dir, block: block, at: BlockHeader.size + 1 + 16 * 42 + 5)  // the 43rd event's id
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        let report = try store.verify(tenant)
        #expect(report.failure?.blockFirstSequence == 201)
        #expect(report.failure?.reason.contains("Merkle root") == true)
    }

    @Test("a flipped byte in a block's header (its time range) makes verify fail at that block")
    func headerFlip() async throws {
        let dir = TemporaryDirectory()
        let block = try await prepare(dir, block: 301)
        try flip(dir, block: block, at: 20)  // inside minOccurred
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        let report = try store.verify(tenant)
        #expect(report.failure?.blockFirstSequence == 301)
        #expect(report.failure?.reason.contains("hash") == true)
    }

    @Test("a block removed through LMDB breaks the chain at the next block")
    func deletedBlock() async throws {
        let dir = TemporaryDirectory()
        _ = try await prepare(dir, block: 1)
        try deleteBlock(101, in: dir.path + "/tenants/audit")
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        let report = try store.verify(tenant)
        #expect(report.failure?.blockFirstSequence == 201)
    }
}
